"""A jaxrnn cell as a Flax NNX module (``pip install 'jaxrnn[flax]'``).

>>> import jax.numpy as jnp, jaxrnn
>>> from flax import nnx
>>> from jaxrnn.interop.nnx import RNN
>>> rnn = RNN(jaxrnn.cells.LSTM, in_features=3, hidden_features=4, rngs=nnx.Rngs(0))
>>> carry, outputs = rnn(jnp.ones((2, 5, 3)))  # batch first (m, T, n_x), as Flax's nnx.RNN
>>> outputs.shape, [s.shape for s in carry]  # the carry in jaxrnn's order: (a, c)
((2, 5, 4), [(2, 4), (2, 4)])

``nnx.grad`` and ``jax.grad`` of any loss of its outputs run the cell's hand-derived backward
(:mod:`jaxrnn.custom_vjp`); it composes with ``nnx.jit`` and ``nnx.vmap``.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from jaxrnn import custom_vjp
from jaxrnn._core.arguments import as_array, check_shapes, integer, require_tuple
from jaxrnn.cells import resolve
from jaxrnn.layers import final_state, with_output_layer


class RNN(nnx.Module):
    """A cell over a batch of sequences, its recurrent parameters ``nnx.Param`` s.

    Arguments:
        cell: a :class:`jaxrnn.Cell`, a built-in cell's name or ``"package.module:NAME"``.
        in_features, hidden_features: ``n_x`` and ``n_a``.
        rngs: ``nnx.Rngs``; the parameters are :meth:`jaxrnn.Cell.init` 's from its
            ``params`` stream.
        reverse: run each sequence's steps last first (within its length; outputs in order).
        dtype: the parameters' dtype.
    """

    def __init__(self, cell, in_features: int, hidden_features: int, *, rngs: nnx.Rngs,
                 reverse: bool = False, dtype=jnp.float32):  # fmt: skip
        self.cell = resolve("jaxrnn.interop.nnx.RNN", cell)
        in_features = integer(_FN, "in_features", in_features, 1)
        hidden_features = integer(_FN, "hidden_features", hidden_features, 1)
        self.in_features, self.hidden_features = in_features, hidden_features
        p = self.cell.init(rngs.params(), in_features, hidden_features, 1, dtype)
        self.parameters = nnx.Dict({k: nnx.Param(p[k]) for k in self.cell.gradient_keys})
        self.reverse = reverse

    def __call__(self, inputs, initial_carry=None, *, seq_lengths=None):
        """``inputs (m, T, n_x)``; ``initial_carry``: a tuple of ``(m, n_a)`` per state
        (``(a,)``, ``(a, c)`` for the LSTM), zeros by default; ``seq_lengths (m,)``: each
        sequence's length. Returns ``(carry, outputs (m, T, n_a))``, as ``nnx.RNN(...,
        return_carry=True)`` does, the carry each sequence's state after its last step."""
        p = {k: v[...] for k, v in self.parameters.items()}
        inputs = as_array(_FN, "inputs", inputs)
        n_a = self.hidden_features
        n_x = check_shapes(_FN, [("inputs", inputs, "m T n_x")])["n_x"]
        if n_x != self.in_features:
            raise ValueError(f"{_FN}: `inputs` has shape {tuple(inputs.shape)}, n_x = {n_x}; "
                             f"expected (m, T, {self.in_features}), the module's "
                             f"in_features")  # fmt: skip
        m = inputs.shape[0]
        if initial_carry is None:
            initial_carry = tuple(jnp.zeros((m, n_a), inputs.dtype) for _ in self.cell.state)
        self._check_carry(initial_carry, m, n_a)
        columns = tuple(s.T for s in initial_carry)  # the documents' (n_a, m)
        initial = {f"{s}0": v for s, v in zip(self.cell.state[1:], columns[1:], strict=True)}
        a, _, *others = custom_vjp.of(self.cell)(
            jnp.transpose(inputs, (2, 0, 1)), columns[0], with_output_layer(self.cell, p, n_a, n_x),
            lengths=seq_lengths, reverse=self.reverse, **initial,
        )  # fmt: skip
        carry = tuple(final_state(s, c, seq_lengths, self.reverse).T
                      for s, c in zip((a, *others), columns, strict=True))  # fmt: skip
        return carry, jnp.transpose(a, (1, 2, 0))

    def _check_carry(self, carry, m: int, n_a: int) -> None:
        """One ``(m, n_a)`` array per state of the cell, batch first as ``inputs``, named in
        the module's own terms before the cell sees them (transposed, in its own)."""
        what = (
            f"a tuple of one (m, n_a) array per state of the cell, ({', '.join(self.cell.state)})"
        )
        require_tuple(_FN, "initial_carry", carry, len(self.cell.state), what)
        for i, c in enumerate(carry):
            shape = tuple(as_array(_FN, f"initial_carry[{i}]", c, self.cell.complex_state).shape)
            if shape != (m, n_a):
                raise ValueError(
                    f"{_FN}: `initial_carry[{i}]` has shape {shape}; expected (m, n_a) = "
                    f"({m}, {n_a}) (m = {m} from `inputs`, n_a = {n_a} from the module)"
                )


_FN = "jaxrnn.interop.nnx.RNN"

__all__ = ["RNN"]
