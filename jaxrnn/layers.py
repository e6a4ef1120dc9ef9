r"""Layers of cells: a cell over a sequence, in either direction or both, and stacks of them.

A :class:`Layer` runs a cell over a sequence, forward in time or, with ``reverse=True``, each
example's steps backwards (within its length, outputs in the original order). A
:class:`Bidirectional` layer runs one cell forward and one reversed and concatenates their
hidden states, :math:`a = [a_{\rightarrow}; a_{\leftarrow}]`, ``(2 n_a, m, T_x)``; its manual
backward splits ``da`` into the two halves and runs both reverse scans, and ``dx`` is the sum
of the two directions'. A stack feeds layer :math:`\ell`'s hidden states to layer
:math:`\ell + 1` as its inputs; its manual backward hands layer :math:`\ell + 1`'s ``dx`` to
layer :math:`\ell` as ``da``. On top, one output layer and the cross-entropy of
:mod:`jaxrnn.loss`, (L1)-(L8), give every layer's complete hand-derived gradient.

A layer's parameters are its cell's recurrent ones (the output layer's keys, if there, are
ignored: a stack predicts through one output layer on top); a bidirectional layer's are
``{"forward": ..., "backward": ...}``, and its ``a0`` stacks the two directions' ``(2 n_a, m)``.
Every function takes ``lengths`` as the sequence functions do.

>>> import numpy as np
>>> from jaxrnn.cells import GRU, LSTM
>>> rng = np.random.default_rng(0)
>>> layers = [Bidirectional(LSTM), Layer(GRU)]
>>> parameters = random_parameters(layers, rng, n_x=3, n_a=4)
>>> x = rng.standard_normal((3, 2, 5)).astype(np.float32)
>>> a, caches = stack_forward(layers, x, [np.zeros((8, 2)), np.zeros((4, 2))], parameters)
>>> a.shape, sorted(stack_backward(layers, np.ones_like(a), caches)["layers"][0])
((4, 2, 5), ['backward', 'da0', 'forward'])
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import as_array, check_shapes, checked, flag
from jaxrnn._core.caches import SequenceCache, checked_caches
from jaxrnn._core.cell import (
    Cell,
    arranged_initial,
    checked_initial,
    forward_states,
    initial_gradients,
    jitted_backward,
)
from jaxrnn._core.lengths import checked_lengths, final_state
from jaxrnn._core.output import Output, output_layer_backward, softmax_layer
from jaxrnn.cells import resolve
from jaxrnn.loss import logits_gradient, output_loss


class Layer(NamedTuple):
    """A cell over a sequence: forward in time, or each example's steps reversed."""

    cell: Cell
    reverse: bool = False


class Bidirectional(NamedTuple):
    """A cell forward in time and a cell reversed (by default the same kind), their hidden
    states concatenated, forward first."""

    forward: Cell
    backward: Cell | None = None


def as_layer(layer):
    """A :class:`Layer` or :class:`Bidirectional` from itself, a cell or a cell's name."""
    if isinstance(layer, (Layer, Bidirectional)):
        if isinstance(layer, Bidirectional):
            cell = resolve("layer", layer.forward)
            return Bidirectional(cell, resolve("layer", layer.backward or cell))
        return Layer(resolve("layer", layer.cell), flag("layer", "reverse", layer.reverse))
    return Layer(resolve("layer", layer))


def _recurrent(cell: Cell) -> dict:
    return {k: cell.parameter_shapes[k] for k in cell.gradient_keys}


def with_output_layer(cell: Cell, p: dict, n_a: int, n_x: int | None = None) -> dict:
    """The recurrent parameters with a stand-in output layer of one class (zeros), for a cell
    forward that predicts as it steps (the generic path): a layer's predictions go unused.
    ``n_x`` is needed where the output layer reads the input (the LRU's ``D``)."""
    dtype = next(iter(p.values())).dtype
    needs_x = any("n_x" in cell.parameter_shapes[k] for k in cell.output)
    if needs_x and n_x is None:
        raise TypeError(f"with_output_layer: the {cell.name} cell's output layer reads the "
                        f"input; give its size, n_x")  # fmt: skip
    shapes = cell.shapes(n_x or 0, n_a, 1)
    return {**p, **{k: jnp.zeros(shapes[k], dtype) for k in cell.output}}


def _directions(layer) -> list[tuple[str | None, Cell, bool]]:
    """``(parameter key or None, cell, reverse)`` for each direction of a layer."""
    if isinstance(layer, Bidirectional):
        return [("forward", layer.forward, False), ("backward", layer.backward, True)]
    return [(None, layer.cell, layer.reverse)]


def layer_forward(layer, x, a0, parameters, *, lengths=None, **initial):
    """One layer over ``x (n_x, m, T_x)``: ``(a, caches)``.

    ``a`` is ``(n_a, m, T_x)``, ``(2 n_a, m, T_x)`` for a bidirectional layer, zero beyond each
    example's length; ``caches`` holds each direction's ``(per-step caches, x)``. ``c0=``
    (each further state's ``<state>0=``) starts that state there, stacked as ``a0`` is.
    """
    layer = as_layer(layer)
    return _layer_forward(layer, x, a0, parameters, lengths, initial, f"{type(layer).__name__} "
                          "layer_forward", ("x", "a0", "parameters"))  # fmt: skip


def _layer_forward(layer, x, a0, parameters, lengths, initial, fn, names):
    """:func:`layer_forward`, its messages calling the function ``fn`` and ``x``, ``a0`` and
    the parameters by ``names`` (a stack names each layer's)."""
    directions = _directions(layer)
    both = len(directions) == 2
    x_name, a0_name, p_name = names
    if both and (not isinstance(parameters, dict) or set(parameters) != {"forward", "backward"}):
        raise TypeError(
            f"{fn}: `{p_name}` must be {{'forward': ..., 'backward': ...}}, one dictionary "
            f"per direction; got {type(parameters).__name__}"
        )
    # the two directions' initial states stacked, forward first
    rows = "n_a+n_a m" if both else "n_a m"
    outputs, caches = [], []
    for i, (key, cell, reverse) in enumerate(directions):
        specs, given = checked_initial(cell, fn, initial)
        data = [(x_name, x, "n_x m T_x"), (a0_name, a0, rows)]
        data += [(name, value, rows) for name, value, _ in specs]
        x_, a0_both, *values, p = checked(
            fn, parameters[key] if both else parameters, _recurrent(cell), data,
            f"{p_name}['{key}']" if both else p_name,
            complex_names=[name for name, _, _ in data[1:]] if cell.complex_state else (),
        )  # fmt: skip
        if lengths is not None:
            lengths = checked_lengths(fn, lengths, x_.shape[1], x_.shape[-1])
        n_a = a0_both.shape[0] // len(directions)
        a0_i, *values = (v[i * n_a : (i + 1) * n_a] for v in (a0_both, *values))
        p = with_output_layer(cell, p, n_a, x_.shape[0])
        others = arranged_initial(cell, given, values)
        states, fields = _forward(cell, reverse, x_, a0_i, others, p, lengths)
        outputs.append(states[0])
        caches.append((SequenceCache(fields, p, cell.cache, lengths, reverse, given), x_))
    return jnp.concatenate(outputs, axis=0), tuple(caches)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _forward(cell, reverse, x, a0, initial, p, lengths):
    return forward_states(cell, x, a0, p, lengths, reverse, initial=initial)


def layer_backward(layer, da, caches) -> dict:
    """The layer's manual backward from ``da``, the gradient of its hidden states.

    Returns:
        The gradients, ``{"dx", "da0", "d<key>"...}``, and for a bidirectional layer
        ``{"dx", "da0", "forward": {"d<key>"...}, "backward": {...}}``, ``da0`` stacked as
        ``a0`` is; ``dc0`` (stacked too) after ``da0`` where the forward was given ``c0``.
    """
    layer = as_layer(layer)
    fn = f"{type(layer).__name__} layer_backward"
    directions = _directions(layer)
    if not isinstance(caches, tuple) or len(caches) != len(directions):
        raise TypeError(f"{fn}: `caches` must be what layer_forward returned for this layer")
    pairs = zip(directions, caches, strict=True)
    sizes = [_hidden_size(fn, cell, cache) for (_, cell, _), cache in pairs]
    da = as_array(fn, "da", da, any(cell.complex_state for _, cell, _ in directions))
    dims = "n_a+n_a m T_da" if len(directions) == 2 else "n_a m T_da"
    if da.ndim != 3:  # before its rows are split between the directions
        raise ValueError(f"{fn}: `da` must have rank 3, shape ({', '.join(dims.split())}); "
                         f"got rank {da.ndim}, shape {tuple(da.shape)}")  # fmt: skip
    if da.shape[0] != sum(sizes):
        raise ValueError(
            f"{fn}: `da` has shape {tuple(da.shape)}; expected ({', '.join(dims.split())}) = "
            f"({sum(sizes)}, {da.shape[1]}, {da.shape[2]}) (n_a = {sizes[0]} from `caches`)"
        )
    gradients, dx, initial = {}, 0.0, {}
    for i, ((key, cell, _), cache) in enumerate(zip(directions, caches, strict=True)):
        part = jnp.asarray(da)[sum(sizes[:i]) : sum(sizes[: i + 1])]
        # the caches hold the stand-in output layer too, which a cell backward may look up
        steps, x, part = checked_caches(fn, cache, part, cell)
        dx_i, dstate, dparams = jitted_backward(cell, steps.reverse, part, steps, x)
        dx = dx + dx_i
        for name, d in initial_gradients(cell, steps.given, dstate).items():
            initial.setdefault(name, []).append(d)
        named = {f"d{k}": dparams[f"d{k}"] for k in cell.gradient_keys}
        gradients |= named if key is None else {key: named}
    stacked = {k: jnp.concatenate(v, axis=0) for k, v in initial.items() if len(v) == len(caches)}
    return {"dx": dx, **stacked, **gradients}


def stack_forward(layers: Sequence, x, a0s: Sequence, parameters: Sequence, *, lengths=None,
                  initial=None):  # fmt: skip
    """The layers in turn, each one's hidden states the next one's inputs: ``(a, caches)``,
    ``a`` the top layer's hidden states, ``caches`` every layer's. ``initial`` holds, per
    layer, a dictionary of its further initial states (``{"c0": ...}``) or ``None``."""
    _check_stack("stack_forward", layers, a0s, parameters, initial)
    caches = []
    for i, (layer, a0, p) in enumerate(zip(layers, a0s, parameters, strict=True)):
        layer = as_layer(layer)
        fn = f"stack_forward, layer {i} ({type(layer).__name__})"
        for _, cell, _ in _directions(layer):
            if cell.complex_state:
                raise TypeError(
                    f"{fn}: the {cell.name} cell's state is complex; a stack hands each "
                    f"layer's hidden states on as the next layer's inputs and to its real "
                    f"output layer, so its layers' states must be real (a Layer or a "
                    f"Bidirectional layer of it alone takes it)"
                )
        x_name = "x" if i == 0 else f"layer {i}'s input (layer {i - 1}'s hidden states)"
        states = (initial[i] if initial is not None else None) or {}
        x, cache = _layer_forward(layer, x, a0, p, lengths, states, fn,
                                  (x_name, f"a0s[{i}]", f"parameters[{i}]"))  # fmt: skip
        caches.append(cache)
    return x, tuple(caches)


def stack_backward(layers: Sequence, da, caches) -> dict:
    """The stack's manual backward from ``da``, the gradient of the top layer's hidden states:
    top layer first, each layer's ``dx`` the ``da`` of the layer below.

    Returns:
        ``{"dx": ..., "layers": [...]}``: the stack's input gradient and, per layer (bottom
        first), :func:`layer_backward`'s dictionary without its ``dx``.
    """
    if not isinstance(caches, tuple) or len(caches) != len(layers):
        raise TypeError(
            f"stack_backward: `caches` must hold one cache per layer ({len(layers)}); got "
            f"{type(caches).__name__}"
        )
    per_layer = []
    for layer, cache in reversed(list(zip(layers, caches, strict=True))):
        gradients = layer_backward(layer, da, cache)
        da = gradients.pop("dx")
        per_layer.insert(0, gradients)
    return {"dx": da, "layers": per_layer}


def _hidden_size(fn: str, cell: Cell, cache) -> int:
    """``n_a`` of one direction, read off its caches (``(per-step caches, x)``)."""
    steps = cache[0] if isinstance(cache, tuple) and len(cache) == 2 else None
    if not isinstance(steps, SequenceCache) or len(steps.fields) != len(cell.cache_fields):
        raise TypeError(f"{fn}: `caches` must be what layer_forward returned for this layer")
    return steps.fields[list(cell.cache_fields).index("a_prev")].shape[1]


def _check_stack(fn, layers, a0s, parameters, initial=None):
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(f"{fn}: `layers` must be a non-empty list of layers")
    given = [("a0s", a0s), ("parameters", parameters)]
    for name, value in given + ([("initial", initial)] if initial is not None else []):
        if not isinstance(value, (list, tuple)) or len(value) != len(layers):
            raise TypeError(
                f"{fn}: `{name}` must hold one entry per layer ({len(layers)}); got "
                f"{type(value).__name__}"
                + (f" of {len(value)}" if hasattr(value, "__len__") else "")
            )


def stack_cross_entropy(layers, x, a0s, parameters, output, labels, *, lengths=None,
                        initial=None):  # fmt: skip
    """:math:`J` of (L3) for the stack's top hidden states through the output layer
    ``output = {"Wy": (n_y, n_top), "by": (n_y, 1)}``, by the forwards alone: the autodiff
    reference for :func:`stack_loss_and_gradients`."""
    fn = "stack_cross_entropy"
    a, caches = stack_forward(layers, x, a0s, parameters, lengths=lengths, initial=initial)
    out = _output(output, a)
    lengths = _lengths(caches)
    return output_loss(fn, _TOP, a, None, out, _labels(fn, labels, a, out), lengths)[0]


def stack_loss_and_gradients(layers, x, a0s, parameters, output, labels, *, lengths=None,
                             initial=None):  # fmt: skip
    """The loss (L3) of the stack and its complete hand-derived gradient.

    (L4)-(L7) through the output layer give ``da`` of the top layer; the stack's manual
    backward (:func:`stack_backward`) the rest. ``initial`` as for :func:`stack_forward`.

    Returns:
        ``(J, {"dx", "layers": [...], "dWy", "dby"})``, each layer's ``dc0`` where it was
        given ``c0``.
    """
    fn = "stack_loss_and_gradients"
    a, caches = stack_forward(layers, x, a0s, parameters, lengths=lengths, initial=initial)
    out = _output(output, a)
    labels, lengths = _labels(fn, labels, a, out), _lengths(caches)
    J, Y, z, m = output_loss(fn, _TOP, a, None, out, labels, lengths)
    dz = logits_gradient(z, Y, m, lengths)  # (L4)
    da, dWy, dby = output_layer_backward(dz, a, out["Wy"])  # (L5)-(L7)
    gradients = stack_backward(layers, da, caches)  # (L8), every layer
    return J, {**gradients, "dWy": dWy, "dby": dby}


class _Top(NamedTuple):
    """What the loss needs of a cell: its output layer; a stack's is the documents'."""

    readout: Output = softmax_layer("Wy", "by")


_TOP = _Top()


def _lengths(caches):
    """The checked lengths the bottom layer's caches hold (``None`` for none)."""
    return caches[0][0][0].lengths


def _output(output, a) -> dict:
    """The output layer's parameters, checked against the top hidden states ``a``."""
    shapes = {"Wy": "n_y n_top", "by": "n_y 1"}
    *_, out = checked(
        "stack output layer", output, shapes, [("top hidden states", a, "n_top m T_x")]
    )
    return out


def _labels(fn, labels, a, out):
    """The labels checked against the top hidden states and the output layer."""
    labels = as_array(fn, "labels", labels)
    top = [("parameters['Wy']", out["Wy"], "n_y n_top"), ("top hidden states", a, "n_top m T_x")]
    if jnp.issubdtype(labels.dtype, jnp.integer):
        check_shapes(fn, [top[1], ("labels", labels, "m T_x")])
    else:
        check_shapes(fn, [*top, ("labels", labels, "n_y m T_x")])
    return labels


def random_parameters(layers, rng: np.random.Generator, n_x: int, n_a: int, dtype=np.float32):
    """Standard-normal recurrent parameters for each layer, scaled by ``1 / sqrt(fan-in)``;
    layer ``l + 1``'s ``n_x`` is layer ``l``'s output size."""
    parameters = []
    for layer in map(as_layer, layers):
        drawn = {}
        for key, cell, _ in _directions(layer):
            shapes = cell.shapes(n_x, n_a, 1)
            p = {k: (rng.standard_normal(shapes[k]) / np.sqrt(shapes[k][1])).astype(dtype)
                 for k in cell.gradient_keys}  # fmt: skip
            drawn = p if key is None else drawn | {key: p}
        parameters.append(drawn)
        n_x = n_a * len(_directions(layer))
    return parameters


__all__ = [
    "Bidirectional", "Layer", "as_layer", "final_state", "layer_backward", "layer_forward",
    "random_parameters", "stack_backward", "stack_cross_entropy", "stack_forward",
    "stack_loss_and_gradients", "with_output_layer",
]  # fmt: skip
