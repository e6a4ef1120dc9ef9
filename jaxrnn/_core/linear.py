r"""Recurrences linear in the state, ``h_t = λ_t ⊙ h_{t-1} + u_t`` with ``λ_t`` and ``u_t``
from ``x_t`` alone (minGRU, minLSTM, the LRU): the sequence forward by a parallel scan and
its hand-derived backward, a reverse linear recurrence of the adjoints.

The forward is one ``jax.lax.associative_scan`` over the pairs ``(λ_t, u_t)``: composing two
steps gives ``(λ_1 λ_2, λ_2 u_1 + u_2)``, an associative operation, so the prefix of every step
takes ``log T`` rounds on an accelerator instead of ``T`` steps. The backward, from the
gradients ``g_t`` reaching each ``h_t`` from outside, is

.. math::
    \delta_t = g_t + \lambda_{t+1} \odot \delta_{t+1}, \quad \delta_T = 0 \tag{A1}

    \partial\lambda_t = \delta_t \odot h_{t-1} \tag{A2}

    \partial u_t = \delta_t \tag{A3}

    \partial h_{-1} = \lambda_0 \odot \delta_0 \tag{A4}

(A1) is itself a linear recurrence, run backwards in time by the same scan. For complex
values these are the gradients in JAX's convention (what ``jax.vjp`` returns: no conjugates,
see :mod:`jaxrnn.gradcheck`). A cell then takes ``∂λ`` and ``∂u`` back to its parameters and
inputs for all steps at once (its :class:`Linear`'s ``coefficients_backward``).

Each example's length works as on the sequential path: a step beyond it has ``λ = 1, u = 0``,
so the state is carried, its output is zero, and it gets no gradient; reversed, each example
runs its own steps backwards. ``parallel=False`` runs the same coefficients through a
``lax.scan``, step by step: the reference the parallel scan is tested against.

The cumulative product ``λ_1 ⋯ λ_t`` underflows to zero over a long sequence of ``|λ| < 1``;
in the pairs above it only multiplies ``h_{-1}``, whose contribution is then truly below the
smallest float, so nothing is lost. The papers' log-space scan guards the other formulation,
``h_t = Λ_t (h_{-1} + Σ u_s / Λ_s)`` with ``Λ_t`` the cumulative product, which divides by it
and overflows where it underflows; jaxrnn does not use that formulation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxrnn._core.layout import time_last, time_major
from jaxrnn._core.lengths import arranged, checked_lengths, masked, order, valid


class Linear(NamedTuple):
    """How a cell linear in its state makes its coefficients, and takes their gradients back.

    Attributes:
        coefficients: ``(xs (T, n_x, m), parameters) -> (λ, u, aux)``: every step's ``λ_t``
            and ``u_t``, ``(T, n_a, m)`` (``λ`` may broadcast), and what the backward needs.
        coefficients_backward: ``(dλ, du, aux, xs, parameters) -> (dxs, {"d<key>": ...})``:
            the input and parameter gradients from every step's ``∂λ`` and ``∂u`` at once.
    """

    coefficients: Callable
    coefficients_backward: Callable


class LinearCache(NamedTuple):
    """What the backward of a linear recurrence needs: every state ``hs (T, n_a, m)`` (time
    major, in each example's own order), the coefficients ``λ`` and the cell's ``aux``, the
    inputs ``xs``, ``a0``, the parameters, ``lengths`` and ``reverse``."""

    hs: jax.Array
    lam: jax.Array
    aux: tuple
    xs: jax.Array
    a0: jax.Array
    parameters: dict
    lengths: jax.Array | None
    reverse: bool


jax.tree_util.register_pytree_node(
    LinearCache,
    lambda c: (tuple(c[:-1]), c.reverse),
    lambda reverse, children: LinearCache(*children, reverse),
)


def _compose(earlier, later):
    """Two steps of ``h -> λ h + u`` as one: ``(λ_1 λ_2, λ_2 u_1 + u_2)``."""
    lam_1, u_1 = earlier
    lam_2, u_2 = later
    return lam_1 * lam_2, lam_2 * u_1 + u_2


def scan(lam, u, h0, parallel: bool = True):
    """``h_t = λ_t h_{t-1} + u_t`` for every step of the leading axis, from ``h_{-1} = h0``."""
    lam = jnp.broadcast_to(lam, u.shape)
    if parallel:
        product, total = lax.associative_scan(_compose, (lam, u), axis=0)
        return product * h0 + total

    def step(h, coefficients):
        h = coefficients[0] * h + coefficients[1]
        return h, h

    return lax.scan(step, h0, (lam, u))[1]


def adjoint(lam, g, parallel: bool = True):
    """(A1): ``δ_t = g_t + λ_{t+1} δ_{t+1}``, ``δ_T = 0``: the same scan, backwards in time."""
    lam = jnp.broadcast_to(lam, g.shape)
    following = jnp.concatenate([lam[1:], jnp.ones_like(lam[:1])], axis=0)  # λ_{t+1}
    flipped = scan(jnp.flip(following, 0), jnp.flip(g, 0), jnp.zeros_like(g[0]), parallel)
    return jnp.flip(flipped, 0)


def states(linear: Linear, xs, a0, parameters, ok=None, parallel=True):
    """The recurrence over time-major inputs ``xs (T, n_x, m)`` (each example in its own
    order): ``(hs, λ, aux)``, every state ``(T, n_a, m)``, the coefficients ``λ`` as the scan
    ran them and the cell's ``aux``. ``ok`` ``(T, 1, m)`` marks the steps within each
    example's length (``None``: all)."""
    lam, u, aux = coefficients(linear, xs, parameters, ok)
    return scan(lam, u, a0, parallel), lam, aux


def coefficients(linear: Linear, xs, parameters, ok=None):
    """``(λ, u, aux)`` of every step, ``λ`` as large as ``u``; beyond an example's length
    (``ok`` False) its state is carried: ``λ = 1, u = 0``."""
    lam, u, aux = linear.coefficients(xs, parameters)
    lam = jnp.broadcast_to(lam, u.shape)
    if ok is not None:
        lam, u = jnp.where(ok, lam, 1), jnp.where(ok, u, 0)
    return lam, u, aux


def gradients(linear: Linear, g, h_prev, lam, aux, xs, parameters, ok=None, parallel=True):
    """(A1)-(A4) and the cell's ``coefficients_backward``, from the gradients ``g (T, n_a, m)``
    reaching every state from outside and the states ``h_prev`` entering every step
    (time-major, as :func:`states` ran): ``(dxs, da0, {"d<key>": ...}, δ)``, δ the whole
    gradient reaching every state."""
    delta = adjoint(lam, g, parallel)  # (A1)
    dlam = delta * h_prev  # (A2)
    du = delta  # (A3)
    da0 = lam[0] * delta[0]  # (A4)
    if ok is not None:  # a step beyond an example's length computed nothing of its own
        dlam, du = jnp.where(ok, dlam, 0), jnp.where(ok, du, 0)
    dxs, dparams = linear.coefficients_backward(dlam, du, aux, xs, parameters)
    return dxs, da0, dparams, delta


@functools.partial(jax.jit, static_argnames=("linear", "reverse", "parallel"))
def forward(linear: Linear, x, a0, parameters, lengths=None, reverse=False, parallel=True):
    """The states of every step, ``a (n_a, m, T_x)`` (zero beyond each example's length), and
    the :class:`LinearCache` for :func:`backward`."""
    T, m = x.shape[-1], x.shape[1]
    index, ok = order(lengths, T, m, reverse), valid(lengths, T)
    xs = time_major(arranged(masked(x, lengths), index))
    hs, lam, aux = states(linear, xs, a0, parameters, ok, parallel)
    a = masked(arranged(time_last(hs), index), lengths)
    return a, LinearCache(hs, lam, aux, xs, a0, parameters, lengths, reverse)


@functools.partial(jax.jit, static_argnames=("linear", "parallel"))
def backward(linear: Linear, da, cache: LinearCache, parallel=True):
    """``(dx, da0, {"d<key>": ...})`` from the states' gradients ``da (n_a, m, T_da)``,
    ``T_da <= T_x`` (the later steps get none), by (A1)-(A4) and the cell's
    ``coefficients_backward``."""
    hs, lam, aux, xs, a0, parameters, lengths, reverse = cache
    T, m = hs.shape[0], hs.shape[-1]
    index, ok = order(lengths, T, m, reverse), valid(lengths, T)
    da = jnp.pad(da, [(0, 0), (0, 0), (0, T - da.shape[-1])]).astype(hs.dtype)
    g = time_major(arranged(masked(da, lengths), index))
    h_prev = jnp.concatenate([a0[None], hs[:-1]], axis=0)
    dxs, da0, dparams, _ = gradients(linear, g, h_prev, lam, aux, xs, parameters, ok, parallel)
    dx = masked(arranged(time_last(dxs), index), lengths)
    return dx, da0, dparams


def sequence_forward(cell, spec: Linear, x, a0, parameters, lengths=None, reverse=False):
    """A linear cell's sequence forward by the parallel scan: ``(a, y_pred, cache)``, its
    arguments checked as the sequential one checks them (``cell`` a
    :class:`~jaxrnn._core.cell.Cell` with the documents' output layer)."""
    fn = f"{cell.name}_parallel_forward"
    data = [("x", x, "n_x m T_x"), ("a0", a0, "n_a m")]
    x, a0, p = cell.validated(fn, data, parameters)
    if lengths is not None:
        lengths = checked_lengths(fn, lengths, x.shape[1], x.shape[2])
    a, cache = forward(spec, x, a0, p, lengths, bool(reverse))
    y_pred = masked(cell.readout.predict(a, x, p), lengths)
    return a, y_pred, cache


def sequence_backward(cell, spec: Linear, da, cache) -> dict:
    """A linear cell's sequence backward by the reverse parallel scan: ``{"dx", "da0",
    "d<key>"...}`` from ``da (n_a, m, T_da)`` and :func:`sequence_forward`'s cache."""
    fn = f"{cell.name}_parallel_backward"
    if not isinstance(cache, LinearCache):
        raise TypeError(f"{fn}: `cache` must be what {cell.name}_parallel_forward returned; got "
                        f"{type(cache).__name__}")  # fmt: skip
    T, n_a, m = cache.hs.shape
    if jnp.ndim(da) != 3 or jnp.shape(da)[:2] != (n_a, m) or not 1 <= jnp.shape(da)[2] <= T:
        raise ValueError(f"{fn}: `da` must have shape (n_a, m, T_da) = ({n_a}, {m}, T_da) with "
                         f"1 <= T_da <= T_x = {T}; got {jnp.shape(da)}")  # fmt: skip
    dx, da0, dparams = backward(spec, jnp.asarray(da, cache.hs.dtype), cache)
    return {"dx": dx, "da0": da0, **{f"d{k}": dparams[f"d{k}"] for k in cell.gradient_keys}}


__all__ = [
    "Linear",
    "LinearCache",
    "adjoint",
    "backward",
    "coefficients",
    "forward",
    "gradients",
    "scan",
    "sequence_backward",
    "sequence_forward",
    "states",
]
