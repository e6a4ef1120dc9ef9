r"""A recurrent cell: the documents' two cell functions, and all that jaxrnn derives from them.

What a cell must provide is what the documents write for it::

    cell_forward(xt, *state_prev, parameters) -> (*state_next, yt_pred, cache)
    cell_backward(*dstate_next, cache)        -> {"dxt", "d<state>_prev", ..., "d<key>", ...}
    parameter_shapes = {"Wf": "n_a n_a+n_x", "bf": "n_a 1", ..., "Wy": "n_y n_a", "by": "n_y 1"}
    state = ("a", "c")                           # the recurrent state, hidden state first

The cache is a tuple that ends with the parameters, as the documents' caches do; its fields are
named (return a ``typing.NamedTuple``, or pass ``cache_fields``) and include ``xt`` and
``<state>_prev`` for every state. The prediction is the documents' output layer,
``yt_pred = softmax(W_y a_next + b_y)``, with ``output`` naming ``W_y`` and ``b_y``, or the
cell's own :class:`~jaxrnn._core.output.Output` (``readout``, as the LRU's ``Re(C a) + D x``);
the backward leaves the output layer out, as the documents' do. A state may be complex
(``complex_state``, the LRU's): its gradients are then in JAX's convention, what ``jax.vjp``
returns.

From these jaxrnn derives, for any cell: the documents' sequence functions ``cell.forward(x,
a0, parameters)`` and ``cell.backward(da, caches)`` (one ``lax.scan`` each way over the two
functions, :mod:`jaxrnn._core.unroll`), the ``jax.vjp`` twins (:mod:`jaxrnn.autodiff`), the
``custom_vjp`` sequence function with checkpointing (``jaxrnn.custom_vjp.of(cell)``), the loss
and its gradient (:mod:`jaxrnn.loss`), problems for the gradient checker
(``jaxrnn.problems.cell_problem``) and ``jaxrnn check --cell package.module:NAME``.

What a cell may provide, for speed, is a :class:`FastPath`: the same mathematics with the gates
stacked and the products of all steps done at once. The built-in cells have one; their
``cell_forward`` and ``cell_backward`` stay the documents' equations, the reference the fast
path is tested against (``cell.generic`` runs a cell without its fast path). A cell linear in
its state (minGRU, minLSTM, the LRU) may give its recurrence as a
:class:`~jaxrnn._core.linear.Linear`: ``cell.parallel_scan`` is then the same cell run over
time by a parallel scan each way (:mod:`jaxrnn._core.linear`), its caches still every step's
cell cache.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core import linear as linear_scan
from jaxrnn._core import unroll
from jaxrnn._core.arguments import checked, complex_dtype, flag
from jaxrnn._core.caches import SequenceCache, checked_caches, make_cache
from jaxrnn._core.layout import time_last, time_major
from jaxrnn._core.lengths import (
    arranged,
    checked_lengths,
    masked,
    nan_examples,
    order,
    out_of_range,
    valid,
)
from jaxrnn._core.output import Output, softmax_layer


class FastPath(NamedTuple):
    """Optional: a cell's forward and backward with the gates stacked, for speed.

    Each function is the cell's equations rearranged: only the recurrence runs step by step,
    everything else for all steps at once (:mod:`jaxrnn._core.unroll`). ``w`` is what
    ``recurrent_weights`` prepares once, outside the loops (stacked and transposed weights).

    Attributes:
        input_projection: ``(xs (T, n_x, m), parameters) -> (rows, T * m)``: the input's part
            of every step's gate pre-activations, biases included, as columns.
        recurrent_weights: ``parameters -> w``.
        step: ``(state_prev, zx_t, w) -> (state_next, gates)``: one step, given its columns of
            the input projection; the step's cache is ``(*state_next, *state_prev, *gates,
            xt, parameters)``.
        step_backward: ``(dstate_next, cache_t, w, columns) -> (dstate_prev, columns)``: the
            per-step part of the backward; writes the step's gate gradients into its
            :class:`~jaxrnn._core.layout.GateColumns`.
        parameter_backward: ``(dgates, caches, parameters) -> (dxs, {"d<key>": ...})``: the
            rest, for all steps at once, from every step's gate gradients ``(rows, T * m)``
            and the stacked cache (``SequenceCache.stacked``).
        rows: ``n_a -> rows``: how many gate pre-activations a step has (``4 n_a``).
    """

    input_projection: Callable
    recurrent_weights: Callable
    step: Callable
    step_backward: Callable
    parameter_backward: Callable
    rows: Callable


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class Cell:
    """A recurrent cell (see the module): two functions and their shapes, and what follows.

    Arguments:
        cell_forward, cell_backward: the documents' cell functions.
        parameter_shapes: ``{key: "n_a n_a+n_x"}``, every parameter's shape in the symbols
            ``n_x``, ``n_a``, ``n_y``, sums of them and ``1``, in the documents' dictionary
            order.
        state: the recurrent state's names, hidden state first; every state after the first
            starts at zeros, as the LSTM's cell state does.
        name: default: ``cell_forward``'s name without ``_cell_forward``.
        output: the output layer's weight and bias keys (set from ``readout`` where given).
        readout: the cell's own :class:`~jaxrnn._core.output.Output` in place of the
            documents' softmax layer; derived from ``output`` when not given.
        complex_state: the states are complex (the initial ones cast to complex).
        cache: the cell cache's type, a NamedTuple class or ``tuple``; ``cache_fields``: its
            fields but the last (the parameters) with their shapes, ``{"a_next": "n_a m"}``.
            Both are read off what ``cell_forward`` returns when not given.
        fast: an optional :class:`FastPath`.
        linear: for a cell linear in its one state, its recurrence as a
            :class:`~jaxrnn._core.linear.Linear` (every step's coefficients, and their
            backward).
        parallel: run the sequence by the parallel scan of ``linear`` (``cell.parallel_scan``
            is such a copy); checkpointing still runs step by step.
        initializer: ``(key, n_x, n_a, n_y, dtype) -> parameters``, the cell's own
            :meth:`init` (the LRU's, the paper's); LeCun-normal weights and zero biases when
            not given.
        forward, backward: the documents' sequence functions under their own names; derived
            (``<name>_forward``, ``<name>_backward``) when not given.
    """

    cell_forward: Callable
    cell_backward: Callable
    parameter_shapes: Mapping[str, str]
    state: tuple[str, ...] = ("a",)
    name: str = ""
    output: tuple[str, ...] = ("Wy", "by")
    readout: Output | None = None
    complex_state: bool = False
    cache: type | None = None
    cache_fields: Mapping[str, str] | None = None
    fast: FastPath | None = None
    linear: linear_scan.Linear | None = None
    parallel: bool = False
    initializer: Callable | None = None
    forward: Callable | None = None
    backward: Callable | None = None
    #: the cell functions ``fast``, ``forward`` and ``backward`` were given with, set by the
    #: cell: a copy with others (``dataclasses.replace(cell, cell_backward=...)``) runs those,
    #: its fast path and sequence functions derived again, never the original's
    given_with: tuple | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self):
        derived = _derive(self)
        for key, value in derived.items():
            object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        # its functions and shapes are many lines; a cell is known by its name and state
        path = "parallel scan" if self.parallel else "generic" if self.fast is None else "fast path"
        return f"<Cell {self.name!r}: state {self.state}, {path}>"

    @property
    def gradient_keys(self) -> tuple[str, ...]:
        """The parameters the backward differentiates: all but the output layer's."""
        return tuple(k for k in self.parameter_shapes if k not in self.output)

    @property
    def parameter_keys(self) -> tuple[str, ...]:
        return tuple(self.parameter_shapes)

    @property
    def cache_length(self) -> int:
        """How many entries a cell cache has, the parameters included."""
        return len(self.cache_fields) + 1

    @functools.cached_property
    def generic(self) -> Cell:
        """This cell without its fast path: one ``lax.scan`` each way over ``cell_forward`` and
        ``cell_backward``, as the documents' loops run them."""
        if self.fast is None and not self.parallel:
            return self
        return dataclasses.replace(self, fast=None, parallel=False, forward=None, backward=None)

    @functools.cached_property
    def parallel_scan(self) -> Cell:
        """This cell run over time by the parallel scan of its linear recurrence: forward one
        ``jax.lax.associative_scan`` for the states, then every step's cell cache at once;
        backward the reverse scan of the adjoints and the parameter gradients of all steps at
        once (:mod:`jaxrnn._core.linear`). For a cell with ``linear`` only."""
        if self.parallel:
            return self
        if self.linear is None:
            raise TypeError(f"Cell {self.name!r} is not linear in its state: it has no `linear`")
        return dataclasses.replace(self, parallel=True, forward=None, backward=None)

    def validated(self, fn: str, data, parameters):
        """``(*data, parameters)`` checked together and cast to one floating dtype (the
        initial states, ``a0`` and ``<state>0``, and the states' gradient ``da`` to its complex
        one for a complex state); ``data`` is ``[(name, array, "n_a m")]``."""
        states = ("a0", *initial_names(self), "da") if self.complex_state else ()
        return checked(fn, parameters, self.parameter_shapes, data, complex_names=states)

    def state_dtype(self, dtype):
        """The states' dtype for inputs of the real ``dtype``."""
        return complex_dtype(dtype) if self.complex_state else dtype

    def shapes(self, n_x: int, n_a: int, n_y: int) -> dict:
        """``{key: shape}`` in numbers."""
        sizes = {"n_x": n_x, "n_a": n_a, "n_y": n_y}
        return {k: _numbers(dims, sizes) for k, dims in self.parameter_shapes.items()}

    def random_parameters(
        self, rng: np.random.Generator, n_x, n_a, n_y, dtype=np.float32, scale=1.0
    ):
        """Standard-normal parameters times ``scale``, as NumPy arrays of ``dtype``."""
        shapes = self.shapes(n_x, n_a, n_y)
        return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}

    def init(self, key, n_x: int, n_a: int, n_y: int, dtype=jnp.float32) -> dict:
        """Parameters from a ``jax.random`` key, as JAX arrays of ``dtype``: every weight
        ``jax.nn.initializers.lecun_normal(in_axis=-1, out_axis=-2)`` (variance ``1 /
        fan_in``, ``fan_in`` its columns, the inputs it sums; truncated normal), every bias
        (a parameter of shape ``(n, 1)`` in ``parameter_shapes``) ``zeros``.

        >>> import jax, jaxrnn
        >>> p = jaxrnn.cells.LSTM.init(jax.random.key(0), n_x=3, n_a=4, n_y=2)
        >>> p["Wf"].shape, float(p["bf"].sum())
        ((4, 7), 0.0)

        A cell given an ``initializer`` (the LRU) is initialised by it instead.
        """
        if self.initializer is not None:
            return self.initializer(key, n_x, n_a, n_y, dtype)
        weight = jax.nn.initializers.lecun_normal(in_axis=-1, out_axis=-2)
        shapes = self.shapes(n_x, n_a, n_y)
        keys = jax.random.split(key, len(shapes))
        return {
            k: jnp.zeros(s, dtype) if self.parameter_shapes[k].split()[1] == "1" else
            weight(subkey, s, dtype)
            for (k, s), subkey in zip(shapes.items(), keys, strict=True)
        }  # fmt: skip

    def cache_inputs(self, cache) -> tuple:
        """``(xt, *state_prev)``: the step's inputs, where they sit in its cell cache."""
        fields = list(self.cache_fields)
        return tuple(cache[fields.index(f)] for f in ("xt", *(f"{s}_prev" for s in self.state)))

    def make_cache(self, fields, parameters) -> tuple:
        """A cell cache of this cell's type from its fields and the parameters."""
        return make_cache(self.cache, (*fields, parameters))

    def checked_states(self, new, state) -> tuple:
        """``cell_forward``'s next states, checked against the states they replace: the same
        shape and dtype, which ``lax.scan`` needs of its carry. Raises ``TypeError`` naming
        the state."""
        fn = getattr(self.cell_forward, "__name__", "cell_forward")
        for name, got, want in zip(self.state, new, state, strict=True):
            if jnp.shape(got) != jnp.shape(want) or jnp.result_type(got) != want.dtype:
                raise TypeError(
                    f"{fn} returned {name}_next of shape {jnp.shape(got)} and dtype "
                    f"{jnp.result_type(got)}; {name}_prev has shape {jnp.shape(want)} and dtype "
                    f"{want.dtype}, and the next step takes one for the other"
                )
        return tuple(new)

    def checked_gradients(self, gradients, cache) -> dict:
        """``cell_backward``'s dictionary, checked: every key it must return, each of its
        input's shape. Raises ``ValueError`` naming the key."""
        fn = getattr(self.cell_backward, "__name__", "cell_backward")
        xt, *state = self.cache_inputs(cache)
        parameters = cache[-1]
        expected = {"dxt": xt, **{f"d{s}_prev": v for s, v in zip(self.state, state, strict=True)}}
        expected |= {f"d{k}": parameters[k] for k in self.gradient_keys}
        if not isinstance(gradients, Mapping):
            raise TypeError(f"{fn} must return a dictionary of gradients; got {type(gradients)}")
        missing = [k for k in expected if k not in gradients]
        unknown = [k for k in gradients if k not in expected]
        if missing or unknown:
            raise ValueError(
                f"{fn} must return the keys {list(expected)}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown {unknown}" if unknown else "")
            )
        for key, value in expected.items():
            if jnp.shape(gradients[key]) != jnp.shape(value):
                raise ValueError(
                    f"{fn} returned {key!r} of shape {jnp.shape(gradients[key])}; its input has "
                    f"shape {jnp.shape(value)}"
                )
            if jnp.result_type(gradients[key]) != jnp.result_type(value):
                raise TypeError(
                    f"{fn} returned {key!r} of dtype {jnp.result_type(gradients[key])}; its "
                    f"input has dtype {jnp.result_type(value)} (the reverse scan carries one "
                    f"into the next step, and sums each into a gradient of that dtype)"
                )
        return {k: gradients[k] for k in expected}


def initial_state(cell: Cell, a0, initial=None) -> tuple:
    """``(a0, ...)``: every further state (the LSTM's ``c``) as ``initial`` gives it (a tuple,
    ``None`` where not given), else at 0, where the documents start it."""
    initial = initial or (None,) * (len(cell.state) - 1)
    return (a0, *(jnp.zeros_like(a0) if s is None else s for s in initial))


def initial_names(cell: Cell) -> tuple[str, ...]:
    """The keyword names of the states after the first: ``("c0",)`` for the LSTM."""
    return tuple(f"{s}0" for s in cell.state[1:])


def checked_initial(cell: Cell, fn: str, initial: Mapping) -> tuple[list, tuple]:
    """The initial states given by keyword (``c0=...``): ``(specs for cell.validated, the names
    of the states given)``; an unknown keyword is a ``TypeError`` naming the known ones."""
    names = initial_names(cell)
    unknown = [k for k in initial if k not in names]
    if unknown:
        known = ", ".join(names) if names else "none: its only state is a, given by a0"
        raise TypeError(
            f"{fn}() got an unexpected keyword argument {unknown[0]!r}; the initial states "
            f"after a0 it takes are {known}"
        )
    given = tuple(s for s, name in zip(cell.state[1:], names, strict=True)
                  if initial.get(name) is not None)  # fmt: skip
    return [(f"{s}0", initial[f"{s}0"], "n_a m") for s in given], given


def arranged_initial(cell: Cell, given: tuple, values) -> tuple:
    """The states after the first, in order: the ``values`` of those ``given``, ``None``
    for the rest (which start at 0)."""
    by_state = dict(zip(given, values, strict=True))
    return tuple(by_state.get(s) for s in cell.state[1:])


def sequence_forward(cell: Cell, x, a0, parameters, *, lengths=None, reverse=False, **initial):
    """The documents' sequence forward of any cell: ``(a, y_pred, *other states, caches)``,
    ``caches = (per-step caches, x)`` (see :func:`jaxrnn.rnn_forward`).

    ``lengths`` (integers ``(m,)`` in ``[0, T_x]``, or ``None``) gives every example its own
    length: from it on, its state is carried unchanged and its outputs (``a``, ``y_pred``, ``c``)
    are zero. ``reverse=True`` runs each example's steps backwards, last first, and returns the
    outputs in the original order. ``c0=`` (for a cell of more states, each one's
    ``<state>0=``) starts that state there instead of at 0, ``(n_a, m)``; the backward then
    returns its gradient, ``dc0``. All of it is kept in the caches, so the backward honours it.
    """
    fn = f"{cell.name}_forward"
    specs, given = checked_initial(cell, fn, initial)
    data = [("x", x, "n_x m T_x"), ("a0", a0, "n_a m"), *specs]
    x, a0, *values, p = cell.validated(fn, data, parameters)
    if lengths is not None:
        lengths = checked_lengths(fn, lengths, x.shape[1], x.shape[2])
    others = arranged_initial(cell, given, values)
    states, y_pred, steps = _forward(cell, flag(fn, "reverse", reverse), given, x, a0, others, p,
                                     lengths)  # fmt: skip
    return (states[0], y_pred, *states[1:], (steps, x))


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _forward(cell, reverse, given, x, a0, initial, p, lengths):
    states, fields = forward_states(cell, x, a0, p, lengths, reverse, initial=initial)
    bad = out_of_range(lengths, x.shape[-1])
    y_pred = nan_examples(bad, masked(cell.readout.predict(states[0], x, p), lengths))
    return states, y_pred, SequenceCache(fields, p, cell.cache, lengths, reverse, given)


def forward_states(cell, x, a0, p, lengths=None, reverse=False, checkpoint=None, initial=None):
    """The states of the sequence forward, in the documents' layout and order, and what the
    backward needs: every step's cache fields, or with ``checkpoint`` the segment-entry states.
    ``initial`` gives the states after the first (see :func:`initial_state`).

    Returns:
        ``(states, saved)``: every state ``(n_a, m, T_x)``, zero beyond each example's length
        (NaN for an example whose length is out of range).
    """
    T, m = x.shape[-1], x.shape[1]
    index, ok = order(lengths, T, m, reverse), valid(lengths, T)
    xs = time_major(arranged(masked(x, lengths), index))
    state0 = initial_state(cell, a0, initial)
    if cell.parallel and checkpoint is None:
        carried, saved = _scanned_forward(cell, state0[0], xs, p, ok)
    elif checkpoint is None:
        carried, saved = unroll.forward(cell, state0, xs, p, ok)
    else:
        saved, carried = unroll.checkpointed_forward(cell, state0, xs, p, checkpoint, ok)
    bad = out_of_range(lengths, T)
    states = tuple(
        nan_examples(bad, masked(arranged(time_last(s), index), lengths)) for s in carried
    )
    return states, saved


def backward_states(
    cell, upstream, saved, x, p, lengths=None, reverse=False, checkpoint=None, keep=False
):
    """The sequence backward from the gradients of the outputs in the documents' layout.

    Arguments:
        upstream: per state, its gradient ``(n_a, m, T)`` with ``T <= T_x`` (the first steps),
            or ``None``.
        saved: :func:`forward_states`'s.
        x, p, lengths, reverse, checkpoint: as the forward had them.
        keep: also return the whole gradient reaching every hidden state.

    Returns:
        ``(dx, dstate0, dparams, kept)``: ``dx (n_x, m, T_x)``, the initial states' gradients,
        the parameters' summed over time, and ``kept (n_a, m, T)`` or ``None``.
    """
    T_x, m = x.shape[-1], x.shape[1]
    T = max(u.shape[-1] for u in upstream if u is not None)
    if lengths is None and not reverse and checkpoint is None:
        # steps after the last upstream gradient get none: they are not visited at all
        saved, xs, steps = tuple(f[:T] for f in saved), time_major(x)[:T], T
    else:
        upstream = tuple(u if u is None else _padded(u, T_x) for u in upstream)
        xs, steps = None, T_x
    index, ok = order(lengths, T_x, m, reverse), valid(lengths, steps)
    ups = tuple(None if u is None else time_major(arranged(u, index)) for u in upstream)
    if xs is None:
        xs = time_major(arranged(masked(x, lengths), index))
    n_a = next(u.shape[0] for u in upstream if u is not None)
    dtype = cell.state_dtype(xs.dtype)
    ups = tuple(None if u is None else u.astype(dtype) for u in ups)
    dstate0 = tuple(jnp.zeros((n_a, m), dtype) for _ in cell.state)
    if cell.parallel and checkpoint is None:
        dstate, dxs, dparams, kept = _scanned_backward(cell, ups[0], saved, xs, p, ok, keep)
    else:
        dstate, dxs, dparams, kept = unroll.backward(
            cell, ups, saved, xs, p, dstate0, checkpoint=checkpoint, keep=keep, valid=ok
        )
    dx = arranged(_padded(time_last(dxs), T_x), index)
    if keep:
        kept = arranged(time_last(kept), index)[..., :T]
    if lengths is not None:
        # nothing of the steps beyond a length counts, whatever the cell computed there:
        # selected away, not multiplied by zero (every length 0 leaves no step to stand in)
        dx = masked(dx, lengths)
        some = jnp.any(lengths > 0)  # asked once, not once per parameter gradient
        dparams = {k: jnp.where(some, v, 0) for k, v in dparams.items()}
    bad = out_of_range(lengths, T_x)
    if bad is not None:
        dx, dstate = nan_examples(bad, dx), tuple(nan_examples(bad, d) for d in dstate)
        any_bad = jnp.any(bad)
        dparams = {k: jnp.where(any_bad, jnp.nan, v) for k, v in dparams.items()}
    return dx, dstate, dparams, kept


def _scanned_forward(cell, a0, xs, p, ok):
    """The parallel scan's forward over time-major ``xs``: ``((hs,), fields)``, every state
    by one associative scan, then every step's cell cache by the cell's own ``cell_forward``,
    all steps at once (``jax.vmap``): the same caches as the step-by-step path's."""
    hs, _, _ = linear_scan.states(cell.linear, xs, a0, p, ok)
    h_prev = jnp.concatenate([a0[None], hs[:-1]], axis=0)

    def fields(xt, a_prev):
        return tuple(cell.cell_forward(xt, a_prev, p)[-1][:-1])

    return (hs,), jax.vmap(fields)(xs, h_prev)


def _scanned_backward(cell, g, fields, xs, p, ok, keep):
    """The parallel scan's backward, (A1)-(A4) and the cell's ``coefficients_backward``, from
    the upstream gradients ``g (T, n_a, m)`` (``None``: none) and the forward's cache fields:
    ``((da0,), dxs, dparams, δ or None)``, as :func:`unroll.backward` returns them."""
    h_prev = fields[list(cell.cache_fields).index("a_prev")]
    lam, _, aux = linear_scan.coefficients(cell.linear, xs, p, ok)
    g = jnp.zeros_like(h_prev) if g is None else g
    if ok is not None:  # beyond its length an example's state is no output: no gradient
        g = jnp.where(ok, g, 0)
    dxs, da0, dparams, delta = linear_scan.gradients(cell.linear, g, h_prev, lam, aux, xs, p, ok)
    return (da0,), dxs, dparams, delta if keep else None


def _padded(v, T: int):
    """``v (..., T_v)`` padded with zeros to ``T`` steps."""
    return jnp.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, T - v.shape[-1])])


def sequence_backward(cell: Cell, da, caches) -> dict:
    """The documents' sequence backward of any cell: ``{"dx", "da0", "d<key>"...}`` from the
    hidden states' gradients ``da (n_a, m, T_da)``, ``T_da <= T_x`` (see
    :func:`jaxrnn.rnn_backward`). It honours the lengths and direction kept in the caches, and
    returns ``dc0`` after ``da0`` where the forward was given ``c0``."""
    steps, x, da = checked_caches(f"{cell.name}_backward", caches, da, cell)
    dx, dstate, dparams = jitted_backward(cell, steps.reverse, da, steps, x)
    # assembled outside jit, whose dictionaries come back with sorted keys
    return {"dx": dx, **initial_gradients(cell, steps.given, dstate),
            **{f"d{k}": dparams[f"d{k}"] for k in cell.gradient_keys}}  # fmt: skip


def initial_gradients(cell: Cell, given: tuple, dstate: tuple) -> dict:
    """``{"da0": ..., "dc0": ...}``: the initial states' gradients, of those given only."""
    gradients = {"da0": dstate[0]}
    for s, d in zip(cell.state[1:], dstate[1:], strict=True):
        if s in given:
            gradients[f"d{s}0"] = d
    return gradients


@functools.partial(jax.jit, static_argnums=(0, 1))
def jitted_backward(cell, reverse, da, steps, x):
    """``(dx, dstate0, {"d<key>": ...})`` of the sequence backward from checked caches, as
    one compiled program (for the documents' backward and a layer's); ``dstate0`` holds
    every initial state's gradient."""
    upstream = (da, *(None for _ in cell.state[1:]))
    dx, dstate, dparams, _ = backward_states(
        cell, upstream, steps.fields, x, steps.parameters, steps.lengths, reverse
    )
    return dx, dstate, dparams


def _sequence_functions(cell: Cell, name: str) -> tuple[Callable, Callable]:
    """``<name>_forward(x, a0, parameters)`` and ``<name>_backward(da, caches)``."""

    def forward(x, a0, parameters, *, lengths=None, reverse=False, **initial):
        return sequence_forward(cell, x, a0, parameters, lengths=lengths, reverse=reverse,
                                **initial)  # fmt: skip

    def backward(da, caches):
        return sequence_backward(cell, da, caches)

    forward.__name__ = forward.__qualname__ = f"{name}_forward"
    backward.__name__ = backward.__qualname__ = f"{name}_backward"
    # derived, so derived again for a copy (dataclasses.replace(cell, cell_backward=...)),
    # whose sequence functions must run its own cell functions, not these
    forward.derived = backward.derived = True
    forward.__doc__ = sequence_forward.__doc__
    backward.__doc__ = sequence_backward.__doc__
    return forward, backward


def _numbers(dims: str, sizes: Mapping[str, int]) -> tuple[int, ...]:
    """``"n_a n_a+n_x"`` -> ``(n_a, n_a + n_x)`` in numbers."""
    return tuple(
        sum(sizes[t] if t in sizes else int(t) for t in d.split("+")) for d in dims.split()
    )


#: sizes a cell is first run at to read its cache: every sum of two is distinct from the rest
_PROBE = {"n_x": 3, "n_a": 11, "n_y": 5, "m": 17}
_SYMBOLS = {1: "1", **{size: symbol for symbol, size in _PROBE.items()}} | {
    _PROBE[a] + _PROBE[b]: f"{a}+{b}"
    for a, b in itertools.combinations_with_replacement(("n_a", "n_x", "n_y"), 2)
}


def _read_cache(
    cell: Cell, name: str, shapes: dict, state: tuple, readout: Output
) -> tuple[type, dict]:
    """The cache's type and its fields' symbolic shapes, read off one run of the cell forward
    at the sizes of ``_PROBE``, which also checks what the forward returns; given
    ``cache_fields`` are checked against the run instead."""
    rng = np.random.default_rng(0)
    p = {k: (0.5 * rng.standard_normal(_numbers(d, _PROBE))).astype(np.float32)
         for k, d in shapes.items()}  # fmt: skip
    xt = rng.standard_normal((_PROBE["n_x"], _PROBE["m"])).astype(np.float32)
    n_a, m = _PROBE["n_a"], _PROBE["m"]
    states = [rng.standard_normal((n_a, m)).astype(np.float32) for _ in state]
    if cell.complex_state:
        states = [s + 1j * rng.standard_normal((n_a, m)).astype(np.float32) for s in states]
    where = f"Cell {name!r}: cell_forward(xt (n_x, m), {', '.join(f'{s}_prev' for s in state)} "
    where += "(n_a, m), parameters), run at n_x = 3, n_a = 11, n_y = 5, m = 17,"
    out = cell.cell_forward(xt, *states, p)
    if not isinstance(out, tuple) or len(out) != len(state) + 2:
        raise TypeError(f"{where} must return ({', '.join(f'{s}_next' for s in state)}, "
                        f"yt_pred, cache); got {type(out).__name__}")  # fmt: skip
    *state_next, yt_pred, cache = out
    if any(np.shape(s) != (_PROBE["n_a"], _PROBE["m"]) for s in state_next):
        shapes = [np.shape(s) for s in state_next]
        raise ValueError(f"{where} returned next states of shapes {shapes}; expected (11, 17)")
    want = np.asarray(readout.predict(state_next[0], xt, p))
    scale = 1 + np.max(np.abs(want))
    if np.shape(yt_pred) != want.shape or not np.allclose(
        yt_pred, want, rtol=1e-4, atol=1e-6 * scale
    ):
        which = "the documents' output layer" if readout.softmax else "its output layer"
        raise ValueError(
            f"{where} must predict with {which}, yt_pred = {readout.formula} (the loss and "
            f"the custom VJP differentiate that layer by hand); its yt_pred is something else"
        )
    if not isinstance(cache, tuple) or not cache or not isinstance(cache[-1], Mapping):
        raise TypeError(f"{where} must return a cache tuple that ends with the parameters, as "
                        f"the documents' caches do; got {type(cache).__name__}")  # fmt: skip
    given = cell.cache_fields
    if hasattr(cache, "_fields"):
        names = list(cache._fields[:-1])
        if given is not None:
            _check_field_names(name, "cell_forward's cache", names, given)
    elif given is not None:
        names = list(given)
    else:
        raise TypeError(
            f"{where} returned a plain tuple as its cache: name its fields, by returning a "
            f"typing.NamedTuple or by passing cache_fields={{'a_next': 'n_a m', ...}}"
        )
    if len(names) != len(cache) - 1:
        raise ValueError(f"{where} returned a cache of {len(cache) - 1} fields and the "
                         f"parameters; its names are {names}")  # fmt: skip
    if given is not None:
        for field, value in zip(names, cache[:-1], strict=True):
            if np.shape(value) != _numbers(given[field], _PROBE):
                raise ValueError(
                    f"{where} returned cache field {field!r} of shape {np.shape(value)}; "
                    f"cache_fields gives it ({', '.join(given[field].split())}) = "
                    f"{_numbers(given[field], _PROBE)}"
                )
        return (type(cache) if hasattr(cache, "_make") else tuple), dict(given)
    fields = {}
    for field, value in zip(names, cache[:-1], strict=True):
        dims = [_SYMBOLS.get(size) for size in np.shape(value)]
        if None in dims:
            raise ValueError(
                f"{where} returned cache field {field!r} of shape {np.shape(value)}, whose "
                f"sizes are not n_x, n_a, n_y, m or sums of two of them: pass cache_fields "
                f"with every field's shape in symbols"
            )
        fields[field] = " ".join(dims)
    return (type(cache) if hasattr(cache, "_make") else tuple), fields


def _check_field_names(name: str, what: str, names: list, given: Mapping) -> None:
    """The cache's field names (all but the parameters, last) are those of ``cache_fields``,
    in order: the backward finds each field by its place."""
    if list(given) != names:
        raise ValueError(
            f"Cell {name!r}: cache_fields names {list(given)}; {what} has the fields {names} "
            f"before the parameters: give every field, in the cache's order"
        )


def _derive(cell: Cell) -> dict:
    """Check a cell's definition and fill in what it leaves to be derived."""
    if not callable(cell.cell_forward) or not callable(cell.cell_backward):
        raise TypeError("Cell: `cell_forward` and `cell_backward` must be functions")
    name = cell.name or getattr(cell.cell_forward, "__name__", "").removesuffix("_cell_forward")
    if not name.isidentifier():
        raise ValueError(f"Cell: give the cell a `name`; got {name!r}")
    state = (cell.state,) if isinstance(cell.state, str) else tuple(cell.state)
    if not state or state[0] != "a":
        raise ValueError(
            f"Cell {name!r}: `state` must name the hidden state 'a' first; got {state}"
        )
    shapes = dict(cell.parameter_shapes)
    for key, dims in shapes.items():
        terms = {t for d in dims.split() for t in d.split("+")}
        if len(dims.split()) != 2 or not terms <= {"n_x", "n_a", "n_y", "1"}:
            raise ValueError(
                f"Cell {name!r}: parameter_shapes[{key!r}] = {dims!r}; a parameter is a matrix "
                f"whose axes are sums of n_x, n_a, n_y and 1, as 'n_a n_a+n_x'"
            )
    readout = cell.readout or softmax_layer(*cell.output)
    if not isinstance(readout, Output):
        raise TypeError(f"Cell {name!r}: `readout` must be a jaxrnn Output; got "
                        f"{type(readout).__name__}")  # fmt: skip
    missing = [k for k in readout.keys if k not in shapes]
    if missing:
        raise ValueError(f"Cell {name!r}: the output layer's keys {missing} are not parameters")
    kind, fields = cell.cache, cell.cache_fields
    if hasattr(kind, "_fields") and fields is not None:  # both given: they must agree
        _check_field_names(name, f"cache={kind.__name__}", list(kind._fields[:-1]), fields)
    else:
        read_kind, read_fields = _read_cache(cell, name, shapes, state, readout)
        kind, fields = kind or read_kind, read_fields
    needed = ["xt", *(f"{s}_prev" for s in state)]
    absent = [f for f in needed if f not in fields]
    if absent:
        raise ValueError(
            f"Cell {name!r}: the cache must have the fields {needed} (the step's inputs, for the "
            f"autodiff twin); it has {list(fields)}"
        )
    if cell.parallel and (not isinstance(cell.linear, linear_scan.Linear) or len(state) != 1):
        raise ValueError(f"Cell {name!r}: `parallel` runs the parallel scan of the cell's "
                         f"`linear` recurrence, which needs one state and a Linear")  # fmt: skip
    forward, backward = _sequence_functions(cell, name)
    functions = (cell.cell_forward, cell.cell_backward)
    own = cell.given_with is None or all(
        a is b for a, b in zip(cell.given_with, functions, strict=True)
    )  # fmt: skip

    def given(f):
        return f is not None and not getattr(f, "derived", False) and own

    return {
        "name": name, "state": state, "parameter_shapes": shapes, "cache": kind,
        "readout": readout, "output": tuple(readout.keys),
        "complex_state": bool(cell.complex_state),
        "cache_fields": dict(fields), "forward": cell.forward if given(cell.forward) else forward,
        "backward": cell.backward if given(cell.backward) else backward,
        "fast": cell.fast if own else None, "given_with": functions,
    }  # fmt: skip
