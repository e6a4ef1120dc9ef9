"""Variable-length batches and reversed time: which steps count, and in which order they run.

An example of length ``L`` has steps ``0 ... L - 1``; from ``L`` on its state is carried
unchanged, its outputs are zero and nothing flows back through those steps. Reversed, each
example runs its own steps backwards, ``L - 1`` first, and the outputs come back in the
original order (Flax's ``keep_order=True``). Both are a reordering of the time axis per
example, done with one gather, and a mask over the steps: :func:`order` and :func:`valid`.
"""

from __future__ import annotations

import jax.numpy as jnp


def order(lengths, T: int, m: int, reverse: bool):
    """The time index each example reads at each step, ``(m, T)``, or ``None`` for ``0 ... T-1``.

    Reversed, example ``i`` reads step ``L_i - 1 - t`` at step ``t < L_i`` and ``t`` beyond:
    a reordering that is its own inverse, so the same gather puts the outputs back in order.
    """
    if not reverse:
        return None
    t = jnp.arange(T)[None, :]
    if lengths is None:
        return jnp.broadcast_to(T - 1 - t, (m, T))
    L = jnp.clip(lengths, 0, T)[:, None]
    return jnp.where(t < L, L - 1 - t, t)


def arranged(v, index):
    """``v (..., m, T)`` with each example's steps in the order of ``index`` (see :func:`order`)."""
    if index is None:
        return v
    return jnp.take_along_axis(v, jnp.broadcast_to(index, v.shape), axis=-1)


def valid(lengths, T: int):
    """``(T, 1, m)``: whether step ``t`` lies within example ``i``'s length; ``None`` for all."""
    if lengths is None:
        return None
    return (jnp.arange(T)[:, None] < lengths[None, :])[:, None, :]


def masked(v, lengths):
    """``v (..., m, T)`` with every step beyond an example's length set to zero."""
    if lengths is None:
        return v
    return jnp.where(jnp.arange(v.shape[-1]) < lengths[:, None], v, 0)


def out_of_range(lengths, T: int):
    """``(m,)``: the lengths outside ``[0, T]``, which only a traced call can pass in (see
    :func:`jaxrnn.caches.checked_lengths`); ``None`` without lengths."""
    if lengths is None:
        return None
    return (lengths < 0) | (lengths > T)


def nan_examples(bad, v):
    """``v`` (examples on axis 1: ``(n, m)`` or ``(n, m, T)``) NaN for the examples in ``bad``."""
    if bad is None:
        return v
    return jnp.where(bad.reshape((1, -1) + (1,) * (v.ndim - 2)), jnp.nan, v)
