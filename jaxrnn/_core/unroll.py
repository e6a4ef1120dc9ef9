"""The one place that unrolls time: one ``lax.scan`` forward, one reverse ``lax.scan`` back.

The documents loop over ``t`` in Python; here each direction is a scan, for every cell, on
one of two paths:

* **generic**: the scan calls the cell's own ``cell_forward`` step by step, and the reverse
  scan its ``cell_backward``, adding the upstream ``da[:, :, t]`` to the hidden-state gradient
  flowing back from step ``t + 1`` (figure 7 of the RNN document) and summing the parameter
  gradients over time, exactly as the documents' loops do;
* **fast** (a cell's :class:`~jaxrnn._core.cell.FastPath`, which the built-in cells have): only the
  recurrence runs step by step; the input's products of every step are one matrix product
  before the forward scan, and the parameter and input gradients one product each after the
  reverse scan, from every step's gate gradients kept in columns.

:func:`backward` is the one backward driver: the documents' sequence backward, the custom
VJP, the loss and :func:`jaxrnn.loss.hidden_state_gradients` all run it, with or without
checkpointing. Inputs here are time-major, ``xs (T, n_x, m)`` (:mod:`jaxrnn._core.layout`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxrnn._core.layout import GateColumns


def forward(cell, state0: tuple, xs, parameters, valid=None, stand_in=None):
    """The cell over time-major inputs ``xs (T, n_x, m)`` from the state ``state0``.

    ``valid`` (``(T, 1, m)`` booleans, or ``None`` for all) marks the steps of each example
    within its length; at the others its state is carried unchanged, and the cell runs on
    the inputs of a step that counts (``stand_in``, by default :func:`_stand_in`'s), so that
    whatever it would compute on padding (NaN, for a cell singular at ``x = 0``) reaches no
    gradient: ``0 * NaN`` is NaN, and a step's parameter gradients sum over every example.

    Returns:
        ``(states, fields)``: every step's states as carried on (the last valid one after an
        example's length), and its cell cache's fields (all but ``parameters``), ``(T, ...)``
        each; beyond an example's length, the stand-in's fields.
    """
    keep = _masked if valid is not None else (lambda ok, new, old: new)
    if valid is not None and stand_in is None:
        stand_in = _stand_in(state0, xs, valid)
    if cell.fast is None:

        def body(state, inputs):
            xt, ok = inputs
            xt_in, *state_in = _counted(ok, (xt, *state), stand_in)
            *new, _, cache = cell.cell_forward(xt_in, *state_in, parameters)
            state = keep(ok, cell.checked_states(new, state), state)
            return state, (state, tuple(cache[:-1]))

        return lax.scan(body, tuple(state0), (xs, valid))[1]
    fast = cell.fast
    zx, w = fast.input_projection(xs, parameters), fast.recurrent_weights(parameters)
    T, m = xs.shape[0], xs.shape[-1]
    if stand_in is not None:  # the stand-in's own column of the input projection
        stand_in = (fast.input_projection(stand_in[0][None], parameters), *stand_in[1:])

    def fast_body(state, inputs):
        t, ok = inputs
        # read in place from the columns: turning them into (T, n, m) first is a transpose of
        # the largest array of the forward
        zx_t = lax.dynamic_slice_in_dim(zx, t * m, m, axis=1)
        zx_t, *state_in = _counted(ok, (zx_t, *state), stand_in)
        state_next, gates = fast.step(tuple(state_in), zx_t, w)
        state_next = keep(ok, state_next, state)
        return state_next, (state_next, gates)

    states, gates = lax.scan(fast_body, tuple(state0), (jnp.arange(T), valid))[1]
    # the fast path's cache: (*state_next, *state_prev, *gates, xt); the states entering step
    # t are those leaving step t - 1
    previous = tuple(
        jnp.concatenate([s0[None], s[:-1]], axis=0) for s0, s in zip(state0, states, strict=True)
    )
    return states, (*states, *previous, *gates, xs)


def _masked(ok, new: tuple, old: tuple) -> tuple:
    """Per example (column), ``new`` where ``ok``, else ``old``."""
    return tuple(jnp.where(ok, n, o) for n, o in zip(new, old, strict=True))


def _stand_in(state0: tuple, xs, valid) -> tuple:
    """``(xt, *states)``, one column each: step 0 of the first example whose step 0 counts,
    the inputs the cell runs on where a step does not count (column 0 when none does: every
    length 0, whose gradients :func:`jaxrnn._core.cell.backward_states` sets to zero)."""
    i = jnp.argmax(valid[0, 0])
    return tuple(lax.dynamic_slice_in_dim(v, i, 1, axis=-1) for v in (xs[0], *state0))


def _counted(ok, inputs: tuple, stand_in) -> tuple:
    """A step's inputs, the stand-in's in the columns that do not count (``ok`` False)."""
    if ok is None:
        return inputs
    return tuple(jnp.where(ok, v, s) for v, s in zip(inputs, stand_in, strict=True))


def segments(x_time_major, segment: int):
    """``(T, ...)`` -> ``(S, segment, ...)``, zero-padded at the end to ``S * segment`` steps."""
    T = x_time_major.shape[0]
    S = -(-T // segment)
    padded = jnp.pad(x_time_major, [(0, S * segment - T)] + [(0, 0)] * (x_time_major.ndim - 1))
    return padded.reshape(S, segment, *x_time_major.shape[1:])


def unsegment(xs, T: int):
    """The inverse of :func:`segments`: ``(S, segment, ...)`` -> ``(T, ...)``."""
    return xs.reshape(-1, *xs.shape[2:])[:T]


def _segmented(valid, xs, segment: int, padding_counts: bool = True):
    """:func:`segments` of the ``valid`` mask (``None`` for every step), the steps that pad
    ``T`` to whole segments not counted; with ``padding_counts`` False, those steps do not
    count even without a mask (one is made for them)."""
    T, m = xs.shape[0], xs.shape[-1]
    if valid is None and T % segment and not padding_counts:
        valid = jnp.ones((T, 1, m), bool)
    return None if valid is None else segments(valid, segment)


def checkpointed_forward(cell, state0: tuple, xs, parameters, segment: int, valid=None):
    """The forward of checkpointing: keep only the state entering every segment.

    Runs :func:`forward` over ``xs`` in segments of ``segment`` steps and keeps, besides each
    step's states, only the state entering each segment; no cache field is kept. Zero steps
    pad ``T`` to a whole number of segments; they come after the real ones and change none of
    their values.

    Returns:
        ``(starts, states)``: segment-entry states ``(S, ...)`` and every step's states
        ``(T, ...)``.
    """

    valid = _segmented(valid, xs, segment)
    stand_in = None if valid is None else _stand_in(state0, xs, valid[0])

    def run_segment(state, inputs):
        x_segment, valid_segment = inputs
        states, _ = forward(cell, state, x_segment, parameters, valid_segment, stand_in)
        return tuple(s[-1] for s in states), (state, states)

    inputs = (segments(xs, segment), valid)
    _, (starts, states) = lax.scan(run_segment, tuple(state0), inputs)
    return starts, tuple(unsegment(s, xs.shape[0]) for s in states)


def backward(
    cell, upstream, saved, xs, parameters, dstate0, *, checkpoint=None, keep=False, valid=None
):
    """Backpropagate through time with a cell's manual backward: the one backward driver.

    Arguments:
        cell: the :class:`~jaxrnn._core.cell.Cell`.
        upstream: per state, the gradients arriving at each step's output state from outside
            the recurrence, ``(T, n_a, m)``, or ``None`` for none.
        saved: without checkpointing, every step's cache fields (:func:`forward`'s); with it,
            the segment-entry states (:func:`checkpointed_forward`'s).
        xs: the forward's inputs ``(T, n_x, m)``.
        parameters: the parameter dictionary.
        dstate0: the state gradients arriving from after the last step (zeros at the end).
        checkpoint: ``None``, or the segment length: each segment's cache fields are then
            recomputed from its entry state, last segment first.
        keep: also return, per step, the whole gradient reaching its output hidden state.
        valid: as for :func:`forward`; at a step beyond an example's length its state was
            carried unchanged, so its gradient passes back unchanged and the step's own
            backward gets none (its input and parameter gradients are zero there).

    Returns:
        ``(dstate, dxs, dparams, kept)``: the state gradients before the first step, the input
        gradients ``(T, n_x, m)``, ``{"d<key>": ...}`` summed over time, and with ``keep``
        ``(T, n_a, m)`` (else ``None``).
    """
    if checkpoint is None:
        return _steps_backward(cell, upstream, saved, parameters, dstate0, keep, valid)
    T = xs.shape[0]
    ups = tuple(None if u is None else segments(u, checkpoint) for u in upstream)
    # the padding's steps run on a stand-in here, in case the cell is NaN on their zeros (in
    # the forward they need not: they come after every real step, and change none of them)
    valid = _segmented(valid, xs, checkpoint, padding_counts=False)
    # the forward's stand-in, from the state entering the first segment
    stand_in = None if valid is None else _stand_in(tuple(s[0] for s in saved), xs, valid[0])

    def segment_backward(dstate, start, x_segment, up_segment, valid_segment):
        _, fields = forward(cell, start, x_segment, parameters, valid_segment, stand_in)
        return _steps_backward(cell, up_segment, fields, parameters, dstate, keep, valid_segment)

    inputs = (saved, segments(xs, checkpoint), ups, valid)
    first = jax.tree.map(lambda s: s[0], inputs)
    shapes = jax.eval_shape(lambda d, f: segment_backward(d, *f)[2], tuple(dstate0), first)
    dparams0 = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    def run_segment(carry, inputs):
        dstate, dparams = carry
        dstate, dxs, dparams_segment, kept = segment_backward(dstate, *inputs)
        return (dstate, jax.tree.map(jnp.add, dparams, dparams_segment)), (dxs, kept)

    (dstate, dparams), (dxs, kept) = lax.scan(
        run_segment, (tuple(dstate0), dparams0), inputs, reverse=True
    )
    return dstate, unsegment(dxs, T), dparams, None if kept is None else unsegment(kept, T)


def _arriving(dstate, upstream_t, given, ok):
    """The gradients reaching a step's output states: from the next step, plus from outside
    for a state that is also an output. With ``ok`` (the step's validity per example): what
    the step's own backward gets (nothing beyond an example's length, where the output is a
    constant zero), and what passes the step by.
    """
    if ok is not None:
        upstream_t = tuple(jnp.where(ok, u, 0) for u in upstream_t)
    arriving = iter(upstream_t)
    total = tuple(d + next(arriving) if g else d for d, g in zip(dstate, given, strict=True))
    if ok is None:
        return total, total
    return tuple(jnp.where(ok, d, 0) for d in total), total


def _steps_backward(cell, upstream, fields, parameters, dstate0, keep, valid=None):
    """The reverse scan over every step's cache fields: :func:`backward` without segments."""
    given = tuple(u is not None for u in upstream)
    upstream = tuple(u for u in upstream if u is not None)
    if cell.fast is not None:
        return _fast_steps_backward(cell, upstream, given, fields, parameters, dstate0, keep, valid)
    zeros = {f"d{k}": jnp.zeros_like(parameters[k]) for k in cell.gradient_keys}

    def body(carry, inputs):
        dstate, dparams = carry
        upstream_t, fields_t, ok = inputs
        dstate, passing = _arriving(dstate, upstream_t, given, ok)
        cache_t = cell.make_cache(fields_t, parameters)
        gradients = cell.checked_gradients(cell.cell_backward(*dstate, cache_t), cache_t)
        dstate_prev = tuple(gradients[f"d{s}_prev"] for s in cell.state)
        if ok is not None:  # beyond its length, an example's state passed the step by
            dstate_prev = _masked(ok, dstate_prev, passing)
        dparams = {k: dparams[k] + gradients[k] for k in dparams}  # the documents' sum over t
        return (dstate_prev, dparams), (gradients["dxt"], dstate[0] if keep else None)

    (dstate, dparams), (dxs, kept) = lax.scan(
        body, (tuple(dstate0), zeros), (upstream, tuple(fields), valid), reverse=True
    )
    return dstate, dxs, dparams, kept


def _fast_steps_backward(cell, upstream, given, fields, parameters, dstate0, keep, valid):
    """The fast path's reverse scan: only the recurrence runs step by step, writing every
    step's gate gradients into columns; the parameter and input gradients of all steps are
    then one matrix product each (the cell's ``parameter_backward``)."""
    fast = cell.fast
    w = fast.recurrent_weights(parameters)
    T, m = fields[0].shape[0], fields[0].shape[-1]
    rows = fast.rows(fields[0].shape[1])
    dtype = jnp.result_type(*jax.tree.leaves((dstate0, fields)))
    # The columns are written in place step by step, every one by its step, so the initial
    # contents never show. Made from a value of the forward rather than a constant, they can
    # reuse the memory of the forward's input projection instead of being live beside it.
    unwritten = (fields[0].ravel()[0] * 0).astype(dtype)
    columns0 = jnp.full((rows, T * m), unwritten, dtype)

    def body(carry, inputs):
        dstate, columns = carry
        t, upstream_t, fields_t, ok = inputs
        dstate, passing = _arriving(dstate, upstream_t, given, ok)
        cache_t = cell.make_cache(fields_t, parameters)
        dstate_prev, step_columns = fast.step_backward(
            dstate, cache_t, w, GateColumns(columns, t * m, m)
        )
        if ok is not None:  # beyond its length, an example's state passed the step by
            dstate_prev = _masked(ok, dstate_prev, passing)
        return (dstate_prev, step_columns.array), (dstate[0] if keep else None)

    (dstate, dgates), kept = lax.scan(
        body, (tuple(dstate0), columns0), (jnp.arange(T), upstream, tuple(fields), valid),
        reverse=True,
    )  # fmt: skip
    dxs, dparams = fast.parameter_backward(dgates, cell.make_cache(fields, parameters), parameters)
    return dstate, dxs, dparams, kept
