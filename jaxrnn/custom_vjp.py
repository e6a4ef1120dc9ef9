r"""Sequence functions whose VJP is jaxrnn's hand-derived backward, for ``jax.grad`` to run.

``rnn``, ``lstm`` and ``gru`` compute the documents' sequence forward (without the caches) as a
``jax.custom_vjp`` whose backward is the manual reverse scan of :mod:`jaxrnn._core.unroll`, preceded
by the output layer's hand-derived VJP. So ``jax.grad``, ``jax.value_and_grad``, ``jax.jit`` and
``jax.vmap`` of *any* loss of their outputs run the documents' equations, not JAX's autodiff:

.. math::
    dz^{\langle t \rangle} = \hat y^{\langle t \rangle} * (d\hat y^{\langle t \rangle}
        - \textstyle\sum_k d\hat y^{\langle t \rangle}_k \hat y^{\langle t \rangle}_k)
    \qquad \text{(L9) the softmax's VJP; then (L5)-(L8) of } \texttt{jaxrnn.loss}

>>> import jax, jax.numpy as jnp, numpy as np, jaxrnn
>>> from jaxrnn.custom_vjp import lstm
>>> p = jaxrnn.cells.LSTM.random_parameters(np.random.default_rng(0), 3, 4, 2)
>>> x, a0 = np.ones((3, 5, 7), np.float32), np.zeros((4, 5), np.float32)
>>> loss = lambda p: jnp.sum(lstm(x, a0, p)[1] ** 2)  # any loss of (a, y, c)
>>> sorted(jax.grad(loss)(p)) == sorted(p)  # every parameter, by the manual backward
True

Outputs a loss does not use cost nothing in the backward: JAX hands their cotangents over as
symbolic zeros, and the backward leaves out what only they reach (a loss of the hidden states
alone runs no output-layer backward).

Second derivatives work, since the manual backward is itself plain JAX, which JAX
differentiates in either mode: ``jax.grad`` of ``jax.grad`` (reverse over reverse),
``jax.hessian`` (forward over reverse) and Hessian-vector products by
``jax.jvp(jax.grad(loss), ...)``. Forward mode of the function itself (``jax.jvp``,
``jax.jacfwd`` of it, or of a loss of it) is not defined for a ``custom_vjp`` and JAX says so
with a ``TypeError`` ("can't apply forward-mode autodiff (jvp) to a custom_vjp function").

**Long sequences.** ``checkpoint=k`` keeps only the state entering every segment of ``k`` steps
and recomputes each segment's caches during the backward: memory for ``T_x / k`` states plus one
segment's caches instead of ``T_x`` steps of caches, for one extra forward pass.
``checkpoint="sqrt"`` picks ``k = ceil(sqrt(T_x))``. Off (``None``) by default. The segment
length shapes the program, so it must be known when the function is traced: under ``jax.jit``
pass it as a static argument, ``jax.jit(lstm, static_argnames="checkpoint")``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax.custom_derivatives import CustomVJPPrimal, SymbolicZero

from jaxrnn._core.arguments import flag, integer
from jaxrnn._core.cell import (
    Cell,
    arranged_initial,
    backward_states,
    checked_initial,
    forward_states,
)
from jaxrnn._core.lengths import checked_lengths, masked, nan_examples, out_of_range
from jaxrnn.cells import GRU, GRU_RESET_AFTER, LSTM, RNN, resolve


@functools.cache
def _build(cell: Cell, checkpoint: int | None, reverse: bool):
    """The ``custom_vjp`` sequence function of one cell, for one checkpoint segment length and
    direction; the lengths are an argument (``None`` for none), and so are the states after
    the first (``None`` where not given: they start at 0)."""
    readout = cell.readout

    def run(x, a0, p, lengths, initial):
        """The forward's outputs ``(a, y_pred, *other states)`` and what the backward keeps."""
        states, saved = forward_states(cell, x, a0, p, lengths, reverse, checkpoint, initial)
        a, *others = states
        y_pred = masked(readout.predict(a, x, p), lengths)
        return (a, nan_examples(out_of_range(lengths, x.shape[-1]), y_pred), *others), saved

    @jax.custom_vjp
    def sequence(x, a0, p, lengths, initial):
        return run(x, a0, p, lengths, initial)[0]

    def forward(x, a0, p, lengths, initial):
        # symbolic zeros (below): the inputs come wrapped, with whether each is differentiated
        x, a0, p, lengths, initial = jax.tree.map(
            lambda v: v.value, (x, a0, p, lengths, initial), is_leaf=_is_primal
        )
        outputs, saved = run(x, a0, p, lengths, initial)
        return outputs, (outputs, saved, x, a0, p, lengths, initial)

    def backward(residuals, cotangents):
        (a, y_pred, *_), saved, x, a0, p, lengths, initial = residuals
        da, dy_pred, *dothers = (None if _is_zero(c) else c for c in cotangents)
        # an output the loss does not depend on sends a symbolic zero: what only it would
        # reach is left out, not computed from zeros (a loss of the hidden states alone runs
        # no output-layer backward and adds no cell-state gradient in the reverse scan)
        if dy_pred is None:
            da_output, dx_output = None, None
            doutput = {k: jnp.zeros_like(p[k]) for k in readout.keys}
        else:
            dz = masked(dy_pred, lengths)  # the steps beyond a length predicted a constant 0
            if readout.softmax:
                dz = y_pred * (dz - jnp.sum(dz * y_pred, axis=0, keepdims=True))  # (L9)
            da_output, dx_output, doutput = readout.backward(dz, a, x, p)  # (L5)-(L7)
        upstream = (_add(da, da_output), *dothers)
        if all(u is None for u in upstream):
            upstream = (jnp.zeros_like(a), *upstream[1:])
        dx, dstate, dparams, _ = backward_states(  # (L8): the manual backward
            cell, upstream, saved, x, p, lengths, reverse, checkpoint
        )
        dx = _add(dx_output, dx)
        gradients = {k: dparams[f"d{k}"] for k in cell.gradient_keys} | doutput
        # an initial state not given is the constant 0, whose gradient goes nowhere; the
        # lengths are integers
        dinitial = tuple(None if s is None else d for s, d in zip(initial, dstate[1:], strict=True))
        return dx, dstate[0], {k: gradients[k] for k in p}, None, dinitial

    sequence.defvjp(forward, backward, symbolic_zeros=True)
    return sequence


def _is_primal(value) -> bool:
    return isinstance(value, CustomVJPPrimal)


def _is_zero(cotangent) -> bool:
    return isinstance(cotangent, SymbolicZero)


def _add(u, v):
    """``u + v`` where ``None`` stands for zeros."""
    return v if u is None else u if v is None else u + v


def _segment_length(fn: str, checkpoint, T_x: int) -> int | None:
    if checkpoint is None:
        return None
    if isinstance(checkpoint, str) and checkpoint == "sqrt":
        return max(1, math.ceil(math.sqrt(T_x)))
    if isinstance(checkpoint, str):
        raise ValueError(
            f"{fn}: `checkpoint` must be None, 'sqrt' or a segment length >= 1; got {checkpoint!r}"
        )
    return min(integer(fn, "checkpoint", checkpoint, minimum=1), T_x)


def of(cell):
    """The sequence function of any :class:`jaxrnn.Cell` whose VJP is its manual backward:
    ``f(x, a0, parameters, *, checkpoint=None, lengths=None, reverse=False, c0=None) -> (a,
    y_pred, *other states)``.

    ``cell`` is a :class:`jaxrnn.Cell`, a built-in cell's name or ``"package.module:NAME"``.
    """
    return _of(resolve("custom_vjp.of", cell))


@functools.cache
def _of(cell: Cell):
    """:func:`of` of a resolved cell, built once."""
    name = cell.name

    def sequence(x, a0, parameters, *, checkpoint=None, lengths=None, reverse=False, **initial):
        specs, given = checked_initial(cell, name, initial)
        data = [("x", x, "n_x m T_x"), ("a0", a0, "n_a m"), *specs]
        x, a0, *values, p = cell.validated(name, data, parameters)
        if lengths is not None:
            lengths = checked_lengths(name, lengths, x.shape[1], x.shape[-1])
        segment = _segment_length(name, checkpoint, x.shape[-1])
        others = arranged_initial(cell, given, values)
        return _build(cell, segment, flag(name, "reverse", reverse))(x, a0, p, lengths, others)

    outputs = ", ".join(("a", "y_pred", *cell.state[1:]))
    sequence.__name__ = sequence.__qualname__ = name
    sequence.__doc__ = f"""``{cell.forward.__name__}`` whose VJP is the manual backward.

    Arguments:
        x, a0, parameters: as for ``{cell.forward.__name__}``.
        checkpoint: ``None`` (default: keep every step's cache), a segment length, or
            ``"sqrt"``: recompute the caches per segment in the backward to save memory.
        lengths, reverse: as for ``{cell.forward.__name__}``.
        {", ".join(f"{s}0" for s in cell.state[1:]) or "(no further state)"}: where each
            further state starts, ``(n_a, m)`` (at 0 by default); differentiable.

    Returns:
        ``({outputs})``, as the documents' forward returns them, without the caches.
    """
    return sequence


rnn = of(RNN)
lstm = of(LSTM)
gru = of(GRU)
gru_reset_after = of(GRU_RESET_AFTER)


__all__ = [
    "gru", "gru_reset_after", "lstm", "of", "rnn"
]  # fmt: skip
