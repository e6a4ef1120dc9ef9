"""The one place where time is unrolled, forward and backward, for every cell.

The documents loop over ``t`` in Python; here both directions are a single ``jax.lax.scan``,
and in both only what the recurrence needs runs step by step:

* :func:`scan_forward` first forms the input's part of every step's pre-activations at once
  (the cell's ``input_projection``: one large matrix product), then scans the recurrence (the
  cell's ``step``: one product of the state with the :class:`Recurrence`'s weights, and the
  gates), and assembles the documents' per-step caches (:func:`cache_fields`) and every
  step's prediction (:func:`predictions`) after the loop.
* :func:`scan_backward` runs a cell's backward in reverse over the same steps, adding the
  upstream ``da[:, :, t]`` to the hidden-state gradient flowing back from step ``t + 1``
  (figure 7 of the RNN document). Only the recurrence runs step by step; the parameter and
  input gradients of all steps are then one matrix product each (the cell's
  ``parameter_backward``), which is the documents' sum over time written as one product.
* :func:`scan_segments` / :func:`reverse_segments` do the same with checkpointing, and
  :func:`sequence_forward` / :func:`sequence_backward` wrap them as the documents' API.

A sequence's cache is a :class:`SequenceCache`: the stacked per-step cache fields plus the
parameters. ``cache[t]`` gives back exactly the tuple the cell forward returned at step ``t``,
so code written against the documents' list of caches keeps working.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn._checks import (
    as_array,
    cast,
    check_da_covers,
    check_shapes,
    common_float_dtype,
    require_parameters,
    require_tuple,
)
from jaxrnn.activations import softmax


@jax.tree_util.register_pytree_node_class
class SequenceCache:
    """Per-step caches of a sequence forward, stacked along a leading time axis.

    Attributes:
        fields: tuple of arrays of shape ``(T_x, ...)``, the cell cache's entries in the cell
            cache's order, without its final ``parameters`` entry.
        parameters: the parameter dictionary, stored once.

    ``len(cache)`` is ``T_x``; ``cache[t]`` (an int, negative ints too, ``IndexError`` out of
    range, as for the documents' list) is the cell cache of step ``t``: ``(*fields at t,
    parameters)``; iterating yields the steps in order.
    """

    def __init__(self, fields: Sequence[Any], parameters: dict):
        self.fields = tuple(fields)
        self.parameters = parameters

    @classmethod
    def from_steps(cls, steps: Sequence[tuple]) -> SequenceCache:
        """Stack a list of cell caches (the documents' ``caches[0]``) into one."""
        fields = tuple(jnp.stack(column) for column in zip(*(s[:-1] for s in steps), strict=True))
        return cls(fields, steps[0][-1])

    def __len__(self) -> int:
        return self.fields[0].shape[0]

    def __getitem__(self, t):
        if isinstance(t, slice):
            return SequenceCache(tuple(f[t] for f in self.fields), self.parameters)
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
            raise TypeError(
                f"SequenceCache indices must be integers or slices, as a list's are; got "
                f"{type(t).__name__} (a traced index has no value to check: index the stacked "
                f"`.fields` with jax.lax.dynamic_index_in_dim instead)"
            )
        if not -len(self) <= t < len(self):
            raise IndexError(f"SequenceCache index {t} out of range for T_x = {len(self)} steps")
        return (*(f[t] for f in self.fields), self.parameters)

    def __iter__(self):
        return (self[t] for t in range(len(self)))

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(f.shape)) for f in self.fields)
        keys = sorted(self.parameters)
        return f"SequenceCache(T_x={len(self)}, fields=[{shapes}], parameters={keys})"

    def tree_flatten(self):
        return (self.fields, self.parameters), None

    @classmethod
    def tree_unflatten(cls, _, children):
        return cls(*children)


def time_major(x):
    """``(..., T)`` -> ``(T, ...)``: the layout ``lax.scan`` iterates over."""
    return jnp.moveaxis(x, -1, 0)


def as_columns(steps):
    """``(T, n, m)`` -> ``(n, T * m)``: every example of every step a column.

    Sums over time and batch such as ``sum_t d_t a_t^T`` are then one plain matrix product,
    which XLA runs far faster than a contraction over two separate axes.
    """
    return jnp.moveaxis(steps, 0, 1).reshape(steps.shape[1], -1)


def from_columns(columns, T: int):
    """``(n, T * m)`` -> ``(T, n, m)``, the inverse of :func:`as_columns`."""
    return jnp.moveaxis(columns.reshape(columns.shape[0], T, -1), 1, 0)


#: multiply-adds from which :func:`transposed_product` forms the transpose first (2**27)
LARGE_PRODUCT = 1 << 27


def transposed_product(w, d):
    """``w.T @ d``; for a large product, with ``w.T`` formed as an array of its own first.

    Written plainly, XLA folds the transpose into the product, which its CPU backend then runs
    through Eigen instead of YNNPACK: for the large LSTM benchmark's input gradients,
    (128, 1024) x (1024, 12800), 35 ms against 22 ms. Below about 10**8 multiply-adds the two
    take the same time, and the copy is one more kernel, which at the smallest benchmark size
    is enough to double the time of a call (benchmarks/README.md). The barrier keeps the
    transpose a separate copy of ``w``.
    """
    if w.size * d.shape[-1] < LARGE_PRODUCT:
        return w.T @ d
    return lax.optimization_barrier(w.T) @ d


def time_last(x):
    """``(T, ...)`` -> ``(..., T)``: the documents' layout."""
    return jnp.moveaxis(x, 0, -1)


class Recurrence(NamedTuple):
    """A cell's forward, split as its backward is: what must run step by step, and the rest.

    Attributes:
        input_projection: ``input_projection(xs, parameters) -> zx``: the part of every step's
            pre-activations that does not depend on the state (the input's products and the
            biases), for all steps at once from ``xs (T, n_x, m)``: one large matrix product
            instead of ``T`` small ones inside the loop, as columns (:func:`as_columns`),
            step ``t``'s in columns ``t * m ... (t + 1) * m``.
        weights: ``weights(parameters) -> w``: the weights the recurrence multiplies the state
            by, sliced (and stacked) once, outside the loop; an array or a tuple of arrays whose
            rows, one array's after another, are the step's pre-activations in the order the
            backward stacks their gradients (``dpre``, see :func:`reverse_steps`).
        step: ``step(state_prev, zx_t, w) -> (state_next, gates)``: the recurrence of one
            step, a tuple of states in, a tuple of states and a tuple of gate values out.
        output_keys: the output layer's weight and bias keys.
        n_state: how many states the cell carries (2 for the LSTM's ``a`` and ``c``).

    A step's cache in the documents' layout is ``(*state_next, *state_prev, *gates, xt,
    parameters)`` for every cell, which :func:`cache_fields` assembles for all steps at once.
    """

    input_projection: Callable
    weights: Callable
    step: Callable
    output_keys: tuple[str, str]
    n_state: int


def scan_steps(step: Callable, carry0, xs):
    """``jax.lax.scan(step, carry0, xs)``: every forward loop over time in jaxrnn is this one."""
    return lax.scan(step, carry0, xs)


def run(recurrence: Recurrence, state0, xs, parameters):
    """The recurrence over time-major inputs ``xs (T, n_x, m)``.

    Returns:
        ``(states, gates)``: every step's output states and gate values, ``(T, ...)`` each.
    """
    zx, w = recurrence.input_projection(xs, parameters), recurrence.weights(parameters)
    T, m = xs.shape[0], xs.shape[-1]

    def body(state, t):
        # read in place from the columns: turning them into (T, n, m) first is a transpose of
        # the largest array of the forward (a sixth of its time at the large benchmark size)
        zx_t = lax.dynamic_slice_in_dim(zx, t * m, m, axis=1)
        state, gates = recurrence.step(state, zx_t, w)
        return state, (state, gates)

    return scan_steps(body, tuple(state0), jnp.arange(T))[1]


def cache_fields(states, gates, state0, xs) -> tuple:
    """The documents' per-step cache fields, ``(*state_next, *state_prev, *gates, xt)``, each
    ``(T, ...)``: the states entering step ``t`` are those leaving step ``t - 1``."""
    previous = tuple(
        jnp.concatenate([s0[None], s[:-1]], axis=0) for s0, s in zip(state0, states, strict=True)
    )
    return (*states, *previous, *gates, xs)


def predictions(recurrence: Recurrence, a, parameters):
    """The output layer, ``softmax(W_y a + b_y)``, of every step at once; ``a (n_a, m, T)``.

    Time and batch are adjacent in the documents' layout, so this is one matrix product.
    """
    w, b = (parameters[k] for k in recurrence.output_keys)
    n_a, m, T = a.shape
    return softmax(w @ a.reshape(n_a, m * T) + b).reshape(-1, m, T)


def scan_forward(recurrence: Recurrence, state0, x, parameters):
    """Run a cell forward over the time steps of ``x``.

    Arguments:
        recurrence: the cell's :class:`Recurrence`.
        state0: the initial recurrent state, a tuple, hidden state first.
        x: inputs of shape ``(n_x, m, T_x)``.
        parameters: the parameter dictionary shared by every step.

    Returns:
        ``(y_pred, steps)``: predictions ``(n_y, m, T_x)`` and the :class:`SequenceCache`.
    """
    xs = time_major(x)
    states, gates = run(recurrence, state0, xs, parameters)
    fields = cache_fields(states, gates, state0, xs)
    return predictions(recurrence, time_last(states[0]), parameters), SequenceCache(
        fields, parameters
    )


def transposed(weights):
    """The recurrent weights transposed (each array of the pytree), as the backward steps use
    them: formed once before the reverse scan, so that its products read them row by row.

    A transpose written inside the step instead makes every step's product read the weights
    column by column, which XLA's CPU backend runs about 1.3x slower.
    """
    return jax.tree.map(jnp.transpose, weights)


@jax.tree_util.register_pytree_node_class
class GateColumns:
    """One step's columns of the gate-gradient array that a step's backward writes into.

    ``array`` is ``(n, T * m)`` (:func:`as_columns`'s layout); the step owns its ``m`` columns
    from ``start`` on. A cell's ``step_backward`` writes its pre-activation gradients there,
    one row band under another, with :meth:`write`, and reads bands back stacked with
    :meth:`rows` where a product needs them so.

    That is the arithmetic of ``jnp.concatenate(bands)``, without the concatenate: XLA's CPU
    backend runs a concatenate of a step's bands as one slow kernel and the copy of the result
    into the columns as a second one; written in place, each band's kernel writes it where it
    belongs (the middle-size LSTM's reverse scan: 16.5 ms with the concatenate, 12.3 ms
    without; benchmarks/README.md).
    """

    def __init__(self, array, start, m: int):
        self.array, self.start, self.m = array, start, m

    def write(self, *bands) -> GateColumns:
        """These columns with ``bands`` (``(n_i, m)`` each) written one under another from
        row 0."""
        array, row = self.array, 0
        for band in bands:
            array = lax.dynamic_update_slice(array, band, (row, self.start))
            row += band.shape[0]
        return GateColumns(array, self.start, self.m)

    def rows(self, start: int, stop: int):
        """Rows ``start ... stop`` of these columns, ``(stop - start, m)``."""
        return lax.dynamic_slice(self.array, (start, self.start), (stop - start, self.m))

    def tree_flatten(self):
        return (self.array, self.start), self.m

    @classmethod
    def tree_unflatten(cls, m, children):
        return cls(*children, m)


def _columns_layout(weights, dstate, fields) -> tuple[int, Any]:
    """Rows and dtype of ``dpre``: the recurrent weights' rows, one array's after another, are
    the pre-activations (see :class:`Recurrence`)."""
    n = sum(w.shape[0] for w in jax.tree.leaves(weights))
    return n, jnp.result_type(*jax.tree.leaves((dstate, fields, weights)))


def backward_one_step(step_backward: Callable, dstate, fields, weights):
    """A cell's per-step backward on one step alone, as the cell backward functions run it.

    Arguments are those of :func:`reverse_steps` for a single step: the state gradients and
    the step's cache fields, ``(..., m)`` each, and the recurrent weights, untransposed.

    Returns:
        ``(dstate_prev, dpre)``, ``dpre`` ``(n, m)``: the step's columns alone.
    """
    n, dtype = _columns_layout(weights, dstate, fields)
    m = fields[0].shape[-1]
    columns = GateColumns(jnp.zeros((n, m), dtype), 0, m)
    dstate_prev, columns = step_backward(tuple(dstate), tuple(fields), transposed(weights), columns)
    return dstate_prev, columns.array


def reverse_steps(step_backward: Callable, upstream, fields, weights, dstate0, keep=False):
    """The reverse scan of a manual backward: only the recurrence runs step by step.

    Arguments:
        step_backward: ``step_backward(dstate, fields_t, w_T, columns) -> (dstate_prev,
            columns)``: a cell's per-step backward, from the gradients of its output state to
            those of its input state, writing ``dpre``, the gradients at its pre-activations,
            into its step's :class:`GateColumns`; ``w_T`` is the recurrent weights
            transposed, see :func:`transposed`.
        upstream: per state entry, the gradients arriving at each step's output state from
            outside the recurrence, ``(T, n_a, m)``, or ``None`` for none.
        fields: the per-step cache fields, ``(T, ...)`` each.
        weights: the cell's recurrent weights, ``Recurrence.weights(parameters)``: their rows,
            the arrays' one after another, are the pre-activations, as ``dpre`` stacks them.
        dstate0: the state gradient arriving from after the last step (zeros at the end).
        keep: also return, per step, the whole gradient reaching its output hidden state.

    Returns:
        ``(dstate, dpre)``: the state gradient before the first step and every step's ``dpre``
        as columns, one ``(n, T * m)`` array, step ``t``'s in columns ``t * m ... (t + 1) * m``
        (:func:`as_columns`'s layout); with ``keep``, ``dpre`` is the pair ``(dpre,
        da_next)``, ``da_next`` ``(T, n_a, m)``. The parameter and input gradients are products
        of ``dpre`` with values known before the scan, so the cell's ``parameter_backward``
        forms them for all steps at once.
    """
    given = tuple(u is not None for u in upstream)
    upstream = tuple(u for u in upstream if u is not None)
    weights_T = transposed(weights)
    T, m = fields[0].shape[0], fields[0].shape[-1]
    n, dtype = _columns_layout(weights, dstate0, fields)
    # the columns are written in place step by step: stacking the steps (T, n, m) and then
    # transposing them into columns would take one more pass over the largest arrays.
    # Every column is written by its step, so the initial contents never show. They are made
    # from a value of the forward, not from a constant: XLA schedules a constant's buffer at the
    # start of the program, where it is live beside the forward's input projection; made after
    # the forward, it reuses the projection's memory (the large LSTM benchmark size under one
    # jit: 199 -> 164 MB of temporary buffers, 1-3% faster; benchmarks/README.md)
    unwritten = (fields[0].ravel()[0] * 0).astype(dtype)
    columns0 = jnp.full((n, T * m), unwritten, dtype)

    def body(carry, inputs):
        dstate, columns = carry
        t, upstream_t, fields_t = inputs
        # a state that is also an output gets two gradients: from the next step and from outside
        arriving = iter(upstream_t)
        dstate = tuple(d + next(arriving) if g else d for d, g in zip(dstate, given, strict=True))
        dstate_prev, step_columns = step_backward(
            dstate, fields_t, weights_T, GateColumns(columns, t * m, m)
        )
        return (dstate_prev, step_columns.array), (dstate[0] if keep else None)

    (dstate, columns), kept = lax.scan(
        body, (tuple(dstate0), columns0), (jnp.arange(T), upstream, tuple(fields)), reverse=True
    )
    return dstate, ((columns, kept) if keep else columns)


def scan_backward(
    step_backward: Callable, parameter_backward: Callable, weights, da, steps: SequenceCache, x,
    dstate0,
):  # fmt: skip
    """Backpropagate through time with a cell's manual backward.

    Arguments:
        step_backward: the cell's per-step backward, as for :func:`reverse_steps`.
        parameter_backward: ``parameter_backward(dpre, fields, parameters) -> (dxs, dparams)``:
            the input and parameter gradients of all steps at once, from ``dpre`` as columns.
        weights: the cell's recurrent weights, ``Recurrence.weights(parameters)``.
        da: upstream gradients of the hidden states, ``(n_a, m, T_da)`` with ``T_da <= T_x``;
            steps after ``T_da`` get no upstream gradient, so they are not visited at all.
        steps: the forward's :class:`SequenceCache`.
        x: the forward's inputs ``(n_x, m, T_x)``; ``dx`` takes their shape.
        dstate0: zeros shaped like the recurrent state, where the backward starts.

    Returns:
        ``(dx, dstate, dparameters)``: ``dx`` of ``x``'s shape, the state gradient at ``t = 0``,
        and the parameter gradients summed over time.
    """
    T_da = da.shape[-1]
    window = steps[:T_da]
    upstream = (time_major(da), *(None for _ in dstate0[1:]))
    dstate, dpre = reverse_steps(step_backward, upstream, window.fields, weights, dstate0)
    dxs, dparams = parameter_backward(dpre, window.fields, steps.parameters)
    dx = time_last(dxs)
    pad = x.shape[-1] - T_da
    if pad:
        dx = jnp.concatenate([dx, jnp.zeros((*dx.shape[:-1], pad), dx.dtype)], axis=-1)
    return dx, dstate, dparams


def _segments(x_time_major, segment: int):
    """``(T, ...)`` -> ``(S, segment, ...)``, zero-padded at the end to ``S * segment`` steps."""
    T = x_time_major.shape[0]
    S = -(-T // segment)
    padded = jnp.pad(x_time_major, [(0, S * segment - T)] + [(0, 0)] * (x_time_major.ndim - 1))
    return padded.reshape(S, segment, *x_time_major.shape[1:])


def _unsegment(xs, T: int):
    return xs.reshape(-1, *xs.shape[2:])[:T]


def scan_segments(recurrence: Recurrence, state0, x, parameters, segment: int):
    """The forward of checkpointing: keep only the state at the start of every segment.

    Runs the recurrence over ``x`` in segments of ``segment`` steps and keeps, besides each
    step's states, only the state entering each segment; the per-step caches are not kept, and
    the input projection is formed one segment at a time. Zero steps pad ``T_x`` up to a whole
    number of segments; they come after the real ones and change none of their values.

    Returns:
        ``(starts, states)``: segment-entry states ``(S, ...)`` and every step's states,
        time-major ``(T_x, ...)``.
    """
    T = x.shape[-1]

    def run_segment(state, x_segment):
        states, _ = run(recurrence, state, x_segment, parameters)
        return tuple(s[-1] for s in states), (state, states)

    _, (starts, states) = scan_steps(run_segment, tuple(state0), _segments(time_major(x), segment))
    return starts, tuple(_unsegment(s, T) for s in states)


def reverse_segments(
    recurrence, step_backward, parameter_backward, upstream, starts, x, parameters, segment,
    dstate0,
):  # fmt: skip
    """The backward of checkpointing: per segment, last first, recompute its caches from its
    entry state, then run the manual backward over them (:func:`reverse_steps` and the cell's
    ``parameter_backward``).

    Memory holds one segment's caches at a time instead of ``T_x`` steps' worth; the price is a
    second forward pass. With ``segment`` near ``sqrt(T_x)`` both the entry states and one
    segment's caches are ``O(sqrt(T_x))``.

    Returns:
        ``(dx, dstate, dparameters)`` as :func:`scan_backward` does.
    """
    T, w = x.shape[-1], recurrence.weights(parameters)
    xs = _segments(time_major(x), segment)
    ups = tuple(None if u is None else _segments(time_major(u), segment) for u in upstream)

    def segment_backward(dstate, start, x_segment, up_segment):
        fields = cache_fields(*run(recurrence, start, x_segment, parameters), start, x_segment)
        dstate, dpre = reverse_steps(step_backward, up_segment, fields, w, dstate)
        dxs, dparams = parameter_backward(dpre, fields, parameters)
        return dstate, dxs, dparams

    first = jax.tree.map(lambda s: s[0], (starts, xs, ups))
    shapes = jax.eval_shape(lambda d, f: segment_backward(d, *f)[2], tuple(dstate0), first)
    dparams0 = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    def run_segment(carry, inputs):
        dstate, dparams = carry
        dstate, dxs, dparams_segment = segment_backward(dstate, *inputs)
        return (dstate, jax.tree.map(jnp.add, dparams, dparams_segment)), dxs

    (dstate, dparams), dxs = lax.scan(
        run_segment, (tuple(dstate0), dparams0), (starts, xs, ups), reverse=True
    )
    return time_last(_unsegment(dxs, T)), dstate, dparams


def checked_caches(fn: str, caches, da, field_dims: dict, parameter_shapes: dict):
    """Check a sequence forward's ``caches = (per-step caches, x)`` and ``da`` together.

    The per-step caches may be a :class:`SequenceCache` or, as the documents' NumPy code builds
    it, a list of cell cache tuples, which is checked step by step and stacked here. Every
    cache field, the parameters stored in the caches, ``x`` and ``da`` are checked against one
    another (``field_dims``: the cell cache's fields and their symbolic shapes, in order;
    ``parameter_shapes``: the cell's parameters'), and ``da`` must cover between 1 and ``T_x``
    steps.

    Returns:
        ``(steps, x, da)``: the :class:`SequenceCache`, ``x`` and ``da``, all of one dtype.
    """
    if not isinstance(caches, (tuple, list)) or len(caches) != 2:
        raise TypeError(
            f"{fn}: `caches` must be the pair (per-step caches, x) that the sequence forward "
            f"returns; got {type(caches).__name__}"
            + (f" of length {len(caches)}" if isinstance(caches, (tuple, list)) else "")
        )
    steps, x = caches
    names = list(field_dims)
    if isinstance(steps, (list, tuple)) and not isinstance(steps, SequenceCache):
        if not steps:
            raise ValueError(f"{fn}: `caches[0]` is empty; it must hold one cell cache per step")
        for t, step in enumerate(steps):
            require_tuple(fn, f"caches[0][{t}]", step, len(names) + 1, "a cell cache")
        parameters = require_parameters(
            fn, steps[0][-1], list(parameter_shapes), "caches[0][0][-1] (parameters)"
        )
        specs = [
            (f"caches[0][{t}][{i}] ({name})", as_array(fn, f"caches[0][{t}][{i}]", step[i]), dims)
            for t, step in enumerate(steps)
            for i, (name, dims) in enumerate(field_dims.items())
        ]
        check_shapes(fn, [*_parameter_specs("caches[0][0][-1]", parameters, parameter_shapes),
                          *specs])  # fmt: skip
        steps = SequenceCache(SequenceCache.from_steps(steps).fields, parameters)
        where, stored = "caches[0]", "caches[0][0][-1]"
    elif isinstance(steps, SequenceCache):
        if len(steps.fields) != len(names):
            raise TypeError(
                f"{fn}: `caches[0]` must be the per-step caches of the sequence forward (each a "
                f"{len(names) + 1}-tuple); got {steps!r:.200}"
            )
        parameters = require_parameters(
            fn, steps.parameters, list(parameter_shapes), "caches[0].parameters"
        )
        steps = SequenceCache(steps.fields, parameters)
        where, stored = "caches[0].fields", "caches[0].parameters"
    else:
        raise TypeError(
            f"{fn}: `caches[0]` must be the per-step caches of the sequence forward; "
            f"got {type(steps).__name__}"
        )
    fields = [
        (f"{where}[{i}] ({name})", as_array(fn, f"{where}[{i}]", f), "T_x " + dims)
        for i, ((name, dims), f) in enumerate(zip(field_dims.items(), steps.fields, strict=True))
    ]
    x = as_array(fn, "caches[1] (x)", x)
    da = as_array(fn, "da", da)
    sizes = check_shapes(
        fn,
        [
            *_parameter_specs(stored, steps.parameters, parameter_shapes),
            *fields,
            ("caches[1] (x)", x, "n_x m T_x"),
            ("da", da, "n_a m T_da"),
        ],
    )
    check_da_covers(fn, da, sizes["T_x"], x.shape)
    dtype = common_float_dtype(*steps.fields, *steps.parameters.values(), x, da)
    parameters = dict(zip(steps.parameters, cast(dtype, *steps.parameters.values()), strict=True))
    *fields, x, da = cast(dtype, *steps.fields, x, da)
    return SequenceCache(fields, parameters), x, da


def _parameter_specs(prefix: str, parameters: dict, shapes: dict):
    return [(f"{prefix}['{k}']", parameters[k], dims) for k, dims in shapes.items()]


def initial_state(recurrence: Recurrence, a0) -> tuple:
    """``(a0, zeros...)``: the documents start every further state (the LSTM's ``c``) at 0."""
    return (a0, *(jnp.zeros_like(a0) for _ in range(recurrence.n_state - 1)))


@functools.partial(jax.jit, static_argnums=(0,))
def sequence_forward(recurrence: Recurrence, x, a0, parameters):
    """The documents' sequence forward for any cell: the recurrence from
    :func:`initial_state`, then the output layer of every step.

    Returns:
        ``(y_pred, states, steps)``: predictions ``(n_y, m, T_x)``, every state per step in the
        documents' layout ``(n_a, m, T_x)`` (hidden state first), and the :class:`SequenceCache`.
    """
    y_pred, steps = scan_forward(recurrence, initial_state(recurrence, a0), x, parameters)
    # every cell cache starts with its next state(s): a_next (, c_next)
    return y_pred, tuple(time_last(f) for f in steps.fields[: recurrence.n_state]), steps


def sequence_backward(
    fn: str, da, caches, *, cache_fields, parameter_shapes, recurrence, step_backward,
    parameter_backward, keys,
) -> dict:  # fmt: skip
    """The documents' sequence backward for any cell: checks, the reverse scan, the dictionary.

    Arguments:
        fn: the public function's name, for the messages.
        da, caches: as the documents' ``backward(da, caches)`` takes them.
        cache_fields, parameter_shapes: the cell cache's fields and the parameters, with their
            symbolic shapes (see :func:`checked_caches`).
        recurrence: the cell's :class:`Recurrence` (its states and recurrent weights).
        step_backward, parameter_backward: the cell's two halves of its backward.
        keys: the parameters' keys in the documents' dictionary order.

    Returns:
        ``{"dx", "da0", "d<key>"...}`` in the documents' order.
    """
    steps, x, da = checked_caches(fn, caches, da, cache_fields, parameter_shapes)
    dx, da0, dparams = _backward(recurrence, step_backward, parameter_backward, da, steps, x)
    # assembled outside jit, whose dictionaries come back with sorted keys
    return {"dx": dx, "da0": da0, **{f"d{k}": dparams[f"d{k}"] for k in keys}}


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _backward(recurrence, step_backward, parameter_backward, da, steps, x):
    zeros = tuple(jnp.zeros_like(da[..., 0]) for _ in range(recurrence.n_state))
    w = recurrence.weights(steps.parameters)
    dx, dstate, dparams = scan_backward(step_backward, parameter_backward, w, da, steps, x, zeros)
    return dx, dstate[0], dparams
