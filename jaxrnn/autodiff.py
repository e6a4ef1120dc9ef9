"""The autodiff twins: the documents' backward passes computed by ``jax.vjp`` / ``jax.grad``.

Each twin takes the same arguments and returns the same dictionary as the hand-derived function
of the same name, but differentiates jaxrnn's *forward* function with JAX instead of running the
documents' equations. Nothing here is written per architecture: :func:`vjp` differentiates any
forward function, and :func:`cell_backward_twin` / :func:`backward_twin` turn a cell of the
registry (:mod:`jaxrnn.cells`) into the twins of its two backward functions.

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

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from jaxrnn.cells import CELLS, Cell
from jaxrnn.unroll import (
    check_da,
    initial_state,
    scan_steps,
    time_last,
    time_major,
    unpack_caches,
)


def vjp(forward: Callable, inputs: Mapping, cotangents) -> dict:
    """Pull cotangents back through ``forward`` with ``jax.vjp``.

    Arguments:
        forward: called as ``forward(*inputs.values())``; returns an array or a tuple.
        inputs: the forward's arguments by name, in order; a value may be a pytree (the
            parameter dictionary).
        cotangents: one per leading output of ``forward`` (the rest, say a cache, get none).

    Returns:
        ``{name: gradient}`` with each gradient shaped like its input.
    """
    cotangents = tuple(cotangents) if isinstance(cotangents, (tuple, list)) else (cotangents,)

    def leading_outputs(*args):
        out = forward(*args)
        return (out if isinstance(out, tuple) else (out,))[: len(cotangents)]

    outputs, pullback = jax.vjp(leading_outputs, *inputs.values())
    for i, (out, cot) in enumerate(zip(outputs, cotangents, strict=True)):
        if tuple(jnp.shape(cot)) != tuple(out.shape):
            raise ValueError(
                f"vjp: cotangent {i} has shape {tuple(jnp.shape(cot))}; output {i} of "
                f"{getattr(forward, '__name__', 'forward')} has shape {tuple(out.shape)}"
            )
    cotangents = tuple(jnp.asarray(c, o.dtype) for c, o in zip(cotangents, outputs, strict=True))
    return dict(zip(inputs, pullback(cotangents), strict=True))


def documents_names(gradients: Mapping, gradient_keys) -> dict:
    """``{"xt": g, "parameters": {...}}`` -> the documents' flat ``{"dxt": g, "dWf": ...}``."""
    flat = {f"d{name}": g for name, g in gradients.items() if name != "parameters"}
    return {**flat, **{f"d{k}": gradients["parameters"][k] for k in gradient_keys}}


def cell_backward_twin(cell: Cell) -> Callable:
    """``cell.cell_backward``'s twin: same arguments, same dictionary, by ``jax.vjp``."""

    def backward(*args):
        *dstate, cache = args
        xt, *state = cell.cache_inputs(cache)
        inputs = {"xt": xt, **{f"{s}_prev": v for s, v in zip(cell.state, state, strict=True)}}
        gradients = vjp(cell.cell_forward, {**inputs, "parameters": cache[-1]}, tuple(dstate))
        return documents_names(gradients, cell.gradient_keys)

    backward.__name__ = cell.cell_backward.__name__
    backward.__doc__ = f"``{cell.cell_backward.__name__}`` computed by ``jax.vjp``."
    return backward


def backward_twin(cell: Cell) -> Callable:
    """``cell.backward``'s twin: same arguments, same dictionary, by ``jax.vjp``.

    A ``da`` covering the first ``T_da`` steps is the cotangent of ``a[:, :, :T_da]``, that is
    ``da`` padded with zeros to ``T_x`` steps.
    """
    fn = cell.backward.__name__

    def backward(da, caches):
        steps, x = unpack_caches(fn, caches, cell.cache_length)
        da = check_da(fn, da, steps, x)
        a0 = cell.cache_inputs(steps[0])[1]
        da = jnp.pad(jnp.asarray(da), ((0, 0), (0, 0), (0, x.shape[-1] - da.shape[-1])))
        gradients = vjp(cell.forward, {"x": x, "a0": a0, "parameters": steps.parameters}, (da,))
        return documents_names(gradients, cell.gradient_keys)

    backward.__name__ = fn
    backward.__doc__ = f"``{fn}`` computed by ``jax.vjp`` of ``{cell.forward.__name__}``."
    return backward


def hidden_loss_gradients(cell: Cell | str, da, x, a0, parameters) -> dict:
    """The sequence backward as ``jax.grad`` of the scalar ``J = sum(da * a[:, :, :T_da])``.

    The documents' ``backward(da, caches)`` is exactly this gradient; here JAX takes it of
    jaxrnn's forward, returning the same dictionary (``dx``, ``da0``, the parameters').
    """
    cell = CELLS[cell] if isinstance(cell, str) else cell
    T_da = jnp.shape(da)[-1]
    trainable = {k: parameters[k] for k in cell.gradient_keys}

    def loss(x, a0, trainable):
        a = cell.forward(x, a0, {**parameters, **trainable})[0]
        return jnp.sum(da * a[:, :, :T_da])

    dx, da0, dparams = jax.grad(loss, argnums=(0, 1, 2))(x, a0, trainable)
    return {"dx": dx, "da0": da0, **{f"d{k}": dparams[k] for k in cell.gradient_keys}}


rnn_cell_backward = cell_backward_twin(CELLS["rnn"])
rnn_backward = backward_twin(CELLS["rnn"])
lstm_cell_backward = cell_backward_twin(CELLS["lstm"])
lstm_backward = backward_twin(CELLS["lstm"])
gru_cell_backward = cell_backward_twin(CELLS["gru"])
gru_backward = backward_twin(CELLS["gru"])


def hidden_state_gradients(cell: Cell | str, da, x, a0, parameters):
    r""":func:`jaxrnn.loss.hidden_state_gradients` by ``jax.grad``.

    Adds a zero probe :math:`\delta^{\langle t \rangle}` to every hidden state on its way out
    of step ``t``; :math:`\partial J / \partial \delta^{\langle t \rangle}` is then the whole
    gradient reaching :math:`a^{\langle t \rangle}`, found by JAX's autodiff of the forward.
    """
    cell = CELLS[cell] if isinstance(cell, str) else cell
    n_x, T_da = x.shape[0], jnp.shape(da)[-1]

    def loss(probe):
        def step(state, x_and_probe):
            xt, delta = x_and_probe[:n_x], x_and_probe[n_x:]
            *state, _, _ = cell.cell_forward(xt, *state, parameters)
            state[0] = state[0] + delta  # a_next + delta: the next step and the output see it
            return tuple(state), state[0]

        state0 = initial_state(cell.recurrence, a0)
        x_and_probe = jnp.concatenate([jnp.asarray(x, probe.dtype), probe], axis=0)
        _, a = scan_steps(step, state0, time_major(x_and_probe))
        return jnp.sum(da * time_last(a)[:, :, :T_da])

    zeros = jnp.zeros((jnp.shape(a0)[0], jnp.shape(a0)[1], x.shape[-1]), jnp.result_type(x, a0))
    return jax.grad(loss)(zeros)[:, :, :T_da]
