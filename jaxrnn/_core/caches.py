"""A sequence's per-step caches, stacked, and the checks a sequence backward makes of them.

The documents' sequence forward returns ``caches = (list of cell caches, x)``. jaxrnn's keeps
the per-step caches stacked along a leading time axis in a :class:`SequenceCache`, a pytree
that indexes like the documents' list: ``caches[0][t]`` is exactly the cell cache of step
``t``. The backward functions also take the documents' own list.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import (
    as_array,
    cast,
    check_da_covers,
    check_shapes,
    common_float_dtype,
    require_parameters,
    require_tuple,
)
from jaxrnn._core.lengths import checked_lengths


def make_cache(kind: type, items) -> tuple:
    """A cell cache of ``kind`` (a NamedTuple class, or ``tuple``) from its entries."""
    return kind._make(items) if hasattr(kind, "_make") else tuple(items)


#: what a step cache that passed through a JAX transformation knows of its sequence
_LOST = "lost"
#: what a step cache remembers of its sequence, said in a message
_REMEMBERED = "lengths=, reverse=True or a given initial state"


@functools.cache
def _step_kind(kind: type) -> type:
    """A cell cache type like ``kind`` (same name, fields and behaviour) whose instances also
    remember the lengths and direction of the sequence they are a step of: the documents'
    list of step caches, ``list(caches[0])``, then keeps them (see
    :func:`checked_caches`)."""
    step = type(kind.__name__, (kind,), {"_sequence": _LOST, "__module__": kind.__module__})
    # a pytree as its kind is; what it remembers is not a leaf, and is lost on the way through
    jax.tree_util.register_pytree_node(
        step, lambda c: (tuple(c), None), lambda _, items: make_cache(step, items)
    )
    return step


def _step_cache(kind: type, items, sequence: tuple) -> tuple:
    """A cell cache of ``kind`` that remembers ``sequence = (lengths, reverse, t, T_x)``."""
    step = _step_kind(kind)
    cache = step._make(items) if hasattr(kind, "_make") else step(items)
    cache._sequence = sequence
    return cache


def _base_kind(cache) -> type:
    """The cell cache type of ``cache``, a remembering step's included."""
    kind = type(cache)
    return kind.__bases__[0] if "_sequence" in kind.__dict__ else kind


@jax.tree_util.register_pytree_node_class
class SequenceCache:
    """Per-step caches of a sequence forward, stacked along a leading time axis.

    Attributes:
        fields: tuple of arrays of shape ``(T_x, ...)``, the cell cache's entries in the cell
            cache's order, without its final ``parameters`` entry.
        parameters: the parameter dictionary, stored once.
        kind: the cell cache's type (a NamedTuple class, or ``tuple``).
        lengths: ``None``, or every example's length ``(m,)``: steps from an example's length
            on did not change its state, and the backward sends nothing through them.
        reverse: whether the steps ran in reverse (each example within its length); the fields
            are then in the order the cell ran them.
        given: the states after the first whose initial values the forward was given
            (``("c",)`` for ``lstm_forward(..., c0=...)``): the backward returns their
            gradients (``dc0``), and only theirs.

    ``len(cache)`` is ``T_x``; ``cache[t]`` (an int, negative ints too, ``IndexError`` out of
    range, as for the documents' list) is the cell cache of step ``t``: ``kind(*fields at t,
    parameters)``; iterating yields the steps in order; ``cache.stacked`` is one cell cache of
    the stacked fields. With lengths or reversed, each step's cache also remembers them, so
    that the documents' list ``list(cache)`` is still the same sequence to a backward.
    """

    def __init__(self, fields: Sequence[Any], parameters: dict, kind: type = tuple,
                 lengths=None, reverse: bool = False, given: tuple = ()):  # fmt: skip
        self.fields = tuple(fields)
        self.parameters = parameters
        self.kind = kind
        self.lengths = lengths
        self.reverse = reverse
        self.given = tuple(given)

    @classmethod
    def from_steps(cls, steps: Sequence[tuple]) -> SequenceCache:
        """Stack a list of cell caches (the documents' ``caches[0]``) into one."""
        fields = tuple(jnp.stack(column) for column in zip(*(s[:-1] for s in steps), strict=True))
        kind = _base_kind(steps[0])
        return cls(fields, steps[0][-1], kind if hasattr(kind, "_make") else tuple)

    @property
    def stacked(self) -> tuple:
        """The cell cache of every step at once: each field ``(T_x, ...)``, then the parameters."""
        return make_cache(self.kind, (*self.fields, self.parameters))

    def __len__(self) -> int:
        return self.fields[0].shape[0]

    def __getitem__(self, t):
        if isinstance(t, slice):
            fields = tuple(f[t] for f in self.fields)
            return SequenceCache(fields, self.parameters, self.kind, self.lengths, self.reverse,
                                 self.given)  # fmt: skip
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
            raise TypeError(
                f"SequenceCache indices must be integers or slices, as a list's are; got "
                f"{type(t).__name__} (a traced index has no value to check: index the stacked "
                f"`.fields` with jax.lax.dynamic_index_in_dim instead)"
            )
        if not -len(self) <= t < len(self):
            raise IndexError(f"SequenceCache index {t} out of range for T_x = {len(self)} steps")
        items = (*(f[t] for f in self.fields), self.parameters)
        if self.lengths is None and not self.reverse and not self.given:
            return make_cache(self.kind, items)
        sequence = (self.lengths, self.reverse, int(t) % len(self), len(self), self.given)
        return _step_cache(self.kind, items, sequence)

    def __iter__(self):
        return (self[t] for t in range(len(self)))

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(f.shape)) for f in self.fields)
        keys = sorted(self.parameters)
        return f"SequenceCache(T_x={len(self)}, fields=[{shapes}], parameters={keys})"

    def tree_flatten(self):
        return (self.fields, self.parameters, self.lengths), (self.kind, self.reverse, self.given)

    @classmethod
    def tree_unflatten(cls, aux, children):
        fields, parameters, lengths = children
        return cls(fields, parameters, aux[0], lengths, aux[1], aux[2])


def checked_caches(fn: str, caches, da, cell, shapes=None) -> tuple[SequenceCache, Any, Any]:
    """Check a sequence forward's ``caches = (per-step caches, x)`` and ``da`` together.

    The per-step caches may be a :class:`SequenceCache` or, as the documents' NumPy code builds
    it, a list of cell cache tuples, which is checked step by step and stacked here. Every
    cache field, the parameters stored in the caches, ``x`` and ``da`` are checked against one
    another (``cell.cache_fields``, and ``cell.parameter_shapes`` or ``shapes``), and ``da``
    must cover between 1 and ``T_x`` steps.

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
    field_dims, shapes = cell.cache_fields, shapes or cell.parameter_shapes
    complex_ok = cell.complex_state  # its states, and the cache fields made from them
    if isinstance(steps, (list, tuple)):
        if not steps:
            raise ValueError(f"{fn}: `caches[0]` is empty; it must hold one cell cache per step")
        for t, step in enumerate(steps):
            require_tuple(fn, f"caches[0][{t}]", step, len(field_dims) + 1, "a cell cache")
        stored = "caches[0][0][-1]"
        parameters = require_parameters(fn, steps[0][-1], list(shapes), stored)
        specs = [
            (
                f"caches[0][{t}][{i}] ({name})",
                as_array(fn, f"caches[0][{t}][{i}]", step[i], complex_ok),
                dims,
            )
            for t, step in enumerate(steps)
            for i, (name, dims) in enumerate(field_dims.items())
        ]
        check_shapes(fn, [*_parameter_specs(stored, parameters, shapes), *specs])
        lengths, reverse, given = _remembered(fn, steps)
        steps, where = SequenceCache.from_steps(steps), "caches[0]"
    elif isinstance(steps, SequenceCache):
        if len(steps.fields) != len(field_dims):
            raise TypeError(
                f"{fn}: `caches[0]` must be the per-step caches of the sequence forward (each a "
                f"{len(field_dims) + 1}-tuple); got {steps!r:.200}"
            )
        stored, where = "caches[0].parameters", "caches[0].fields"
        parameters = require_parameters(fn, steps.parameters, list(shapes), stored)
        lengths, reverse, given = steps.lengths, steps.reverse, steps.given
    else:
        raise TypeError(
            f"{fn}: `caches[0]` must be the per-step caches of the sequence forward; "
            f"got {type(steps).__name__}"
        )
    fields = [
        (f"{where}[{i}] ({name})", as_array(fn, f"{where}[{i}]", f, complex_ok), "T_x " + dims)
        for i, ((name, dims), f) in enumerate(zip(field_dims.items(), steps.fields, strict=True))
    ]
    x = as_array(fn, "caches[1] (x)", x)
    da = as_array(fn, "da", da, complex_ok)
    sizes = check_shapes(
        fn,
        [
            *_parameter_specs(stored, parameters, shapes),
            *fields,
            ("caches[1] (x)", x, "n_x m T_x"),
            ("da", da, "n_a m T_da"),
        ],
    )
    check_da_covers(fn, da, sizes["T_x"], x.shape)
    if lengths is not None:
        lengths = checked_lengths(fn, lengths, sizes["m"], sizes["T_x"], "caches[0].lengths")
    dtype = common_float_dtype(*steps.fields, *parameters.values(), x, da)
    parameters = dict(zip(parameters, cast(dtype, *parameters.values()), strict=True))
    *fields, x = cast(dtype, *steps.fields, x)
    (da,) = cast(cell.state_dtype(dtype), da)
    return SequenceCache(fields, parameters, cell.cache, lengths, reverse, given), x, da


def _remembered(fn: str, steps) -> tuple:
    """``(lengths, reverse, given)`` of the sequence a list of step caches came from: ``(None,
    False, ())`` for plain tuples; those its steps remember (:class:`SequenceCache` with
    lengths, reversed or given initial states), when every step does, in order; otherwise
    ``TypeError``, since the same list without them is another sequence and would give other
    gradients."""
    sequences = [getattr(step, "_sequence", None) for step in steps]
    if all(s is None for s in sequences):
        return None, False, ()
    how = "pass `caches` as the forward returned them (or list(caches[0]), in order, unchanged)"
    for t, sequence in enumerate(sequences):
        if sequence is None or sequence == _LOST:
            what = "a plain cell cache" if sequence is None else (
                "a step cache whose lengths, direction and initial states were lost (through "
                "a JAX transformation)"
            )  # fmt: skip
            raise TypeError(
                f"{fn}: `caches[0]` holds steps of a forward with {_REMEMBERED}, "
                f"but caches[0][{t}] is {what}; without them the steps are another sequence "
                f"and give other gradients: {how}"
            )
    lengths, reverse, _, T_x, given = sequences[0]
    for t, (lengths_t, reverse_t, step, _, _) in enumerate(sequences):
        if lengths_t is not lengths or reverse_t != reverse:
            problem = f"caches[0][{t}] is a step of another forward than caches[0][0]"
        elif step != t:
            problem = f"caches[0][{t}] is step {step} of its forward, out of order"
        else:
            continue
        raise TypeError(f"{fn}: {problem} (one with {_REMEMBERED}): {how}")
    if T_x != len(steps):
        raise TypeError(
            f"{fn}: `caches[0]` holds {len(steps)} of the {T_x} steps of a forward with "
            f"{_REMEMBERED}: {how}"
        )
    return lengths, reverse, given


def _parameter_specs(prefix: str, parameters: Mapping, shapes: Mapping):
    return [(f"{prefix}['{k}']", parameters[k], dims) for k, dims in shapes.items()]
