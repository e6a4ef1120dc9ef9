"""A jaxrnn cell as an Equinox module (``pip install 'jaxrnn[equinox]'``).

>>> import jax, jax.numpy as jnp, jaxrnn
>>> from jaxrnn.interop.eqx import RNN
>>> rnn = RNN(jaxrnn.cells.GRU, n_x=3, n_a=4, key=jax.random.key(0))
>>> outputs, (a,) = rnn(jnp.ones((5, 3)))  # unbatched (T, n_x), as Equinox's own cells
>>> outputs.shape, a.shape
((5, 4), (4,))

``jax.grad`` and ``eqx.filter_grad`` of any loss of its outputs run the cell's hand-derived
backward (:mod:`jaxrnn.custom_vjp`); ``jax.vmap`` over a leading axis batches it.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from jaxrnn import custom_vjp
from jaxrnn._core.arguments import as_array, check_shapes, integer, require_tuple
from jaxrnn.cells import resolve
from jaxrnn.layers import final_state, with_output_layer


class RNN(eqx.Module):
    """A cell over a sequence, its recurrent parameters the module's.

    Arguments:
        cell: a :class:`jaxrnn.Cell`, a built-in cell's name or ``"package.module:NAME"``.
        n_x, n_a: the input's and the hidden state's sizes.
        key: a ``jax.random`` key (:meth:`jaxrnn.Cell.init`).
        reverse: run each sequence's steps last first (its outputs in the original order).
        dtype: the parameters' dtype.
    """

    parameters: dict
    cell: object = eqx.field(static=True)
    reverse: bool = eqx.field(static=True)
    n_x: int = eqx.field(static=True)
    n_a: int = eqx.field(static=True)

    def __init__(self, cell, n_x: int, n_a: int, *, key, reverse: bool = False,
                 dtype=jnp.float32):  # fmt: skip
        self.cell = resolve("jaxrnn.interop.eqx.RNN", cell)
        self.n_x, self.n_a = integer(_FN, "n_x", n_x, 1), integer(_FN, "n_a", n_a, 1)
        p = self.cell.init(key, self.n_x, self.n_a, 1, dtype)
        self.parameters = {k: p[k] for k in self.cell.gradient_keys}
        self.reverse = reverse

    def __call__(self, x, state=None, *, length=None):
        """``x (T, n_x)``; ``state``: the carry to start from, a tuple of ``(n_a,)`` per state
        (``(a,)``, ``(a, c)`` for the LSTM), zeros by default; ``length``: how many of the
        ``T`` steps count. Returns ``(outputs (T, n_a), final carry)``, the carry the state
        after the last step that counts."""
        n_a = self.n_a
        x = as_array(_FN, "x", x)
        if state is None:
            state = tuple(jnp.zeros((n_a,), x.dtype) for _ in self.cell.state)
        self._check(x, state, n_a)
        columns = tuple(s[:, None] for s in state)  # the documents' (n_a, m) with m = 1
        lengths = None if length is None else jnp.reshape(length, (1,))
        initial = {f"{s}0": v for s, v in zip(self.cell.state[1:], columns[1:], strict=True)}
        p = with_output_layer(self.cell, self.parameters, n_a, self.n_x)
        a, _, *others = custom_vjp.of(self.cell)(
            x.T[:, None, :], columns[0], p, lengths=lengths, reverse=self.reverse, **initial
        )
        carry = tuple(final_state(s, c, lengths, self.reverse)[:, 0]
                      for s, c in zip((a, *others), columns, strict=True))  # fmt: skip
        return a[:, 0, :].T, carry

    def _check(self, x, state, n_a: int) -> None:
        """``x (T, n_x)`` and a ``state`` of one ``(n_a,)`` per state of the cell, named in the
        module's own terms before the cell sees them."""
        names = ", ".join(self.cell.state)
        require_tuple(_FN, "state", state, len(self.cell.state),
                      f"a tuple of one (n_a,) array per state of the cell, ({names})")  # fmt: skip
        specs = [("x", x, "T n_x")] + [
            (f"state[{i}]", as_array(_FN, f"state[{i}]", s, self.cell.complex_state), "n_a")
            for i, s in enumerate(state)
        ]  # fmt: skip
        sizes = check_shapes(_FN, specs)
        for symbol, size, what in (("n_x", self.n_x, "x"), ("n_a", n_a, "state")):
            if sizes[symbol] != size:
                raise ValueError(f"{_FN}: `{what}` has {symbol} = {sizes[symbol]}; the module's "
                                 f"{symbol} is {size}")  # fmt: skip


_FN = "jaxrnn.interop.eqx.RNN"

__all__ = ["RNN"]
