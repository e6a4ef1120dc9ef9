"""The autodiff twins: the documents' backward passes computed by ``jax.vjp`` / ``jax.grad``.

Each twin takes the same arguments, makes the same checks and returns the same dictionary as the
hand-derived function of the same name, but differentiates jaxrnn's *forward* function with JAX
instead of running the documents' equations. Nothing here is written per architecture:
:func:`vjp` differentiates any forward function, and :func:`cell_backward_twin` /
:func:`backward_twin` turn any :class:`jaxrnn.Cell`, built-in or not, into the twins of its two
backward functions.

>>> import numpy as np, jaxrnn
>>> from jaxrnn import autodiff
>>> p = jaxrnn.cells.RNN.random_parameters(np.random.default_rng(0), 3, 4, 2)
>>> x, a0 = np.ones((3, 2, 5), np.float32), np.zeros((4, 2), np.float32)
>>> a, y_pred, caches = jaxrnn.rnn_forward(x, a0, p)
>>> da = np.ones((4, 2, 5), np.float32)
>>> manual, twin = jaxrnn.rnn_backward(da, caches), autodiff.rnn_backward(da, caches)
>>> list(manual) == list(twin)
True
>>> bool(np.allclose(manual["dWaa"], twin["dWaa"], rtol=1e-4, atol=1e-5))
True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from jaxrnn._core.arguments import check_da_covers, checked_cell_cache
from jaxrnn._core.caches import checked_caches
from jaxrnn._core.cell import Cell, checked_initial, initial_state
from jaxrnn._core.layout import time_last, time_major
from jaxrnn.cells import CELLS, resolve


def vjp(forward: Callable, inputs: Mapping, cotangents) -> dict:
    """Pull cotangents back through ``forward`` with ``jax.vjp``.

    Arguments:
        forward: called as ``forward(*inputs.values())``; returns an array or a tuple.
        inputs: the forward's arguments by name, in order; a value may be a pytree (the
            parameter dictionary).
        cotangents: one per leading output of ``forward`` (the rest, say a cache, get none),
            each shaped like its output.

    Returns:
        ``{name: gradient}`` with each gradient shaped like its input.
    """
    cotangents = tuple(cotangents) if isinstance(cotangents, (tuple, list)) else (cotangents,)

    def leading_outputs(*args):
        out = forward(*args)
        return (out if isinstance(out, tuple) else (out,))[: len(cotangents)]

    outputs, pullback = jax.vjp(leading_outputs, *inputs.values())
    cotangents = tuple(jnp.asarray(c, o.dtype) for c, o in zip(cotangents, outputs, strict=True))
    return dict(zip(inputs, pullback(cotangents), strict=True))


def documents_names(gradients: Mapping, keep=None, like: Mapping | None = None) -> dict:
    """``{"xt": g, "parameters": {"Wf": g}}`` -> the documents' flat ``{"dxt": g, "dWf": g}``.

    A dictionary input's entries are named by their key alone, as the documents name
    ``dWf``; deeper ones by their keys below the input joined with dots
    (``{"parameters": {"forward": {"Wf": g}}}`` -> ``"dforward.Wf"``). Where two leaves would
    get one name (``{"layer1": {"W": g}, "layer2": {"W": g}}``), each of them is named by its
    whole path, the input's name first (``"dlayer1.W"``, ``"dlayer2.W"``). With ``keep``, a
    dictionary input's entries are kept only for those keys (the backward's parameters, not
    the output layer's); with ``like``, the names are those of ``like``'s leaves (the inputs,
    whose structure a backward's gradients repeat).
    """
    names = leaf_names(gradients if like is None else like)
    flat = {}
    for name, value in gradients.items():
        if isinstance(value, Mapping):
            kept = value if keep is None else {k: value[k] for k in keep}
            for path, leaf in paths(kept, (str(name),)):
                flat[names.get(path, "d" + ".".join(path))] = leaf
        else:
            flat[names.get((str(name),), f"d{name}")] = value
    return flat


def leaf_names(tree: Mapping) -> dict:
    """``{path: name}`` for every leaf of ``tree`` (see :func:`documents_names`)."""
    short = {}
    for name, value in tree.items():
        if isinstance(value, Mapping):
            for path, _ in paths(value, (str(name),)):
                short[path] = "d" + ".".join(path[1:])
        else:
            short[(str(name),)] = f"d{name}"
    taken = list(short.values())
    return {path: n if taken.count(n) == 1 else "d" + ".".join(path) for path, n in short.items()}


def paths(tree: Mapping, prefix=()):
    """``(path, leaf)`` of every leaf of nested dictionaries, depth first in key order."""
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from paths(value, (*prefix, str(key)))
        else:
            yield (*prefix, str(key)), value


def _same_signature(twin: Callable, manual: Callable, doc: str) -> Callable:
    """Give ``twin`` the manual function's name and signature: the same calls are refused."""
    twin.__name__ = twin.__qualname__ = manual.__name__
    twin.__signature__ = inspect.signature(manual)
    twin.__doc__ = doc
    return twin


def _bind(signature: inspect.Signature, fn: str, args, kwargs) -> tuple:
    """The arguments as the manual function would take them, or its ``TypeError``."""
    try:
        return signature.bind(*args, **kwargs).args
    except TypeError as err:
        raise TypeError(f"{fn}() {err}") from None


def cell_backward_twin(cell: Cell) -> Callable:
    """``cell.cell_backward``'s twin: same arguments, same checks, same dictionary, by
    ``jax.vjp`` of ``cell.cell_forward``."""
    fn = cell.cell_backward.__name__
    signature = inspect.signature(cell.cell_backward)

    def backward(*args, **kwargs):
        *dstate, cache = _bind(signature, fn, args, kwargs)
        names = [f"d{s}_next" for s in cell.state]
        dstate, fields, p = checked_cell_cache(
            fn, cache, list(zip(names, dstate, strict=True)), cell.cache_fields,
            cell.parameter_shapes, cell.complex_state,
        )  # fmt: skip
        xt, *state = cell.cache_inputs(cell.make_cache(fields, p))
        inputs = {"xt": xt, **{f"{s}_prev": v for s, v in zip(cell.state, state, strict=True)}}
        gradients = vjp(cell.cell_forward, {**inputs, "parameters": p}, tuple(dstate))
        return documents_names(gradients, cell.gradient_keys)

    return _same_signature(backward, cell.cell_backward, f"``{fn}`` computed by ``jax.vjp``.")


def backward_twin(cell: Cell) -> Callable:
    """``cell.backward``'s twin: same arguments, same checks, same dictionary, by ``jax.vjp``.

    A ``da`` covering the first ``T_da`` steps is the cotangent of ``a[:, :, :T_da]``, that is
    ``da`` padded with zeros to ``T_x`` steps.
    """
    fn = cell.backward.__name__
    signature = inspect.signature(cell.backward)

    def backward(*args, **kwargs):
        da, caches = _bind(signature, fn, args, kwargs)
        steps, x, da = checked_caches(fn, caches, da, cell)
        # the states entering the first step the cell ran: a0 and any given (reversed, too, as
        # each example's first step there is its own last)
        _, a0, *others = cell.cache_inputs(steps[0])
        given = {f"{s}0": v for s, v in zip(cell.state[1:], others, strict=True)
                 if s in steps.given}  # fmt: skip
        da = jnp.pad(da, ((0, 0), (0, 0), (0, x.shape[-1] - da.shape[-1])))

        def forward(x, a0, parameters, *initial):
            return cell.forward(x, a0, parameters, lengths=steps.lengths, reverse=steps.reverse,
                                **dict(zip(given, initial, strict=True)))  # fmt: skip

        inputs = {"x": x, "a0": a0, "parameters": steps.parameters}
        gradients = vjp(forward, {**inputs, **given}, (da,))
        named = documents_names(gradients, cell.gradient_keys)
        order = ["dx", "da0", *(f"d{k}" for k in given), *(f"d{k}" for k in cell.gradient_keys)]
        return {k: named[k] for k in order}

    doc = f"``{fn}`` computed by ``jax.vjp`` of ``{cell.forward.__name__}``."
    return _same_signature(backward, cell.backward, doc)


def _checked_sequence(fn: str, cell: Cell, da, x, a0, parameters):
    """``da``, ``x``, ``a0`` and the parameters checked together, in one dtype."""
    data = [("x", x, "n_x m T_x"), ("a0", a0, "n_a m"), ("da", da, "n_a m T_da")]
    x, a0, da, p = cell.validated(fn, data, parameters)
    check_da_covers(fn, da, x.shape[-1], x.shape)
    return da, x, a0, p


def hidden_loss_gradients(
    cell: Cell | str, da, x, a0, parameters, *, lengths=None, reverse=False, **initial
) -> dict:
    """The sequence backward as ``jax.grad`` of the scalar ``J = sum(da * a[:, :, :T_da])``.

    The documents' ``backward(da, caches)`` is exactly this gradient; here JAX takes it of
    jaxrnn's forward (with ``lengths``, ``reverse`` and a given ``c0`` as the forward takes
    them), returning the same dictionary (``dx``, ``da0``, ``dc0`` where ``c0`` is given, the
    parameters'). ``da`` is ``(n_a, m, T_da)`` with ``1 <= T_da <= T_x``, checked as the
    backward checks it.
    """
    cell = resolve("hidden_loss_gradients", cell)
    fn = f"{cell.name} hidden_loss_gradients"
    specs, given = checked_initial(cell, fn, initial)
    da, x, a0, parameters = _checked_sequence(fn, cell, da, x, a0, parameters)
    states = ()
    if specs:  # checked against a0 and the parameters, in their dtype
        _, *states, _ = cell.validated(fn, [("a0", a0, "n_a m"), *specs], parameters)
    T_da = da.shape[-1]
    trainable = {k: parameters[k] for k in cell.gradient_keys}
    names = [f"{s}0" for s in given]

    def loss(x, a0, trainable, states):
        p = {**parameters, **trainable}
        a = cell.forward(x, a0, p, lengths=lengths, reverse=reverse,
                         **dict(zip(names, states, strict=True)))[0]  # fmt: skip
        # Re(<da, a>): for a complex state (the LRU's), its gradient is the VJP of the
        # cotangent da in JAX's convention; for a real one, the plain sum
        return jnp.real(jnp.sum(da * a[:, :, :T_da]))

    dx, da0, dparams, dstates = jax.grad(loss, argnums=(0, 1, 2, 3))(x, a0, trainable,
                                                                      tuple(states))  # fmt: skip
    return {"dx": dx, "da0": da0, **{f"d{n}": d for n, d in zip(names, dstates, strict=True)},
            **{f"d{k}": dparams[k] for k in cell.gradient_keys}}  # fmt: skip


rnn_cell_backward = cell_backward_twin(CELLS["rnn"])
rnn_backward = backward_twin(CELLS["rnn"])
lstm_cell_backward = cell_backward_twin(CELLS["lstm"])
lstm_backward = backward_twin(CELLS["lstm"])
gru_cell_backward = cell_backward_twin(CELLS["gru"])
gru_backward = backward_twin(CELLS["gru"])
gru_reset_after_cell_backward = cell_backward_twin(CELLS["gru_reset_after"])
gru_reset_after_backward = backward_twin(CELLS["gru_reset_after"])


def hidden_state_gradients(cell: Cell | str, da, x, a0, parameters):
    r""":func:`jaxrnn.loss.hidden_state_gradients` by ``jax.grad``.

    Adds a zero probe :math:`\delta^{\langle t \rangle}` to every hidden state on its way out
    of step ``t``; :math:`\partial J / \partial \delta^{\langle t \rangle}` is then the whole
    gradient reaching :math:`a^{\langle t \rangle}`, found by JAX's autodiff of the forward.
    ``da`` is checked as for :func:`hidden_loss_gradients`.
    """
    cell = resolve("hidden_state_gradients", cell)
    fn = f"{cell.name} hidden_state_gradients"
    da, x, a0, parameters = _checked_sequence(fn, cell, da, x, a0, parameters)
    T_da = da.shape[-1]

    def loss(probe):
        def step(state, inputs):
            xt, delta = inputs
            *state, _, _ = cell.cell_forward(xt, *state, parameters)
            state[0] = state[0] + delta  # a_next + delta: the next step and the output see it
            return tuple(state), state[0]

        _, a = jax.lax.scan(step, initial_state(cell, a0), (time_major(x), time_major(probe)))
        return jnp.real(jnp.sum(da * time_last(a)[:, :, :T_da]))  # Re: see above

    zeros = jnp.zeros((a0.shape[0], a0.shape[1], x.shape[-1]), a0.dtype)
    return jax.grad(loss)(zeros)[:, :, :T_da]


__all__ = [
    "backward_twin", "cell_backward_twin", "documents_names", "gru_backward", "gru_cell_backward",
    "gru_reset_after_backward", "gru_reset_after_cell_backward", "hidden_loss_gradients",
    "hidden_state_gradients", "leaf_names", "lstm_backward", "lstm_cell_backward", "paths",
    "rnn_backward", "rnn_cell_backward", "vjp"
]  # fmt: skip
