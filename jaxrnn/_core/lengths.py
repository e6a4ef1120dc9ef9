"""Variable-length batches and reversed time: which steps count, and in which order they run.

An example of length ``L`` has steps ``0 ... L - 1``; from ``L`` on its state is carried
unchanged, its outputs are zero and nothing flows back through those steps. Reversed, each
example runs its own steps backwards, ``L - 1`` first, and the outputs come back in the
original order (Flax's ``keep_order=True``). Both are a reordering of the time axis per
example, done with one gather, and a mask over the steps: :func:`order` and :func:`valid`.
Each example's state after its own last step, which the zero padding hides, is
:func:`final_state`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import (
    as_array,
    cast,
    check_shapes,
    common_float_dtype,
    flag,
    host_array,
)


def final_state(states, initial, lengths=None, reverse=False):
    """Each example's state after its last step, ``(n_a, m)``: the last valid one.

    Arguments:
        states: a state of every step as the sequence forward returns it, ``(n_a, m, T_x)``
            (``a``, or an LSTM's ``c``), zero beyond each example's length.
        initial: the state before the first step, ``(n_a, m)`` (``a0``, or a zero ``c0``).
        lengths, reverse: as the forward had them.

    Returns:
        Example ``i``'s state at step ``lengths[i] - 1`` (at step 0 reversed, which it runs
        last), ``initial[:, i]`` for a length of 0: what a forward over its own length alone
        would end with. Under ``jax.jit`` a length outside ``[0, T_x]`` gives NaN for its
        example (checked lengths outside it raise ``ValueError``).
    """
    fn = "final_state"
    # complex states (the LRU's) are picked as real ones are
    states = as_array(fn, "states", states, complex_ok=True)
    initial = as_array(fn, "initial", initial, complex_ok=True)
    sizes = check_shapes(fn, [("states", states, "n_a m T_x"), ("initial", initial, "n_a m")])
    states, initial = cast(common_float_dtype(states, initial), states, initial)
    T, m = sizes["T_x"], sizes["m"]
    reverse = flag(fn, "reverse", reverse)
    if lengths is None:
        lengths = jnp.full((m,), T, jnp.int32)
    lengths = checked_lengths(fn, lengths, m, T)
    last = jnp.zeros_like(lengths) if reverse else jnp.clip(lengths - 1, 0, T - 1)
    picked = jnp.take_along_axis(states, last[None, :, None], axis=-1)[..., 0]
    # a traced length outside [0, T_x] has no last step: NaN, as the forwards give it
    return nan_examples(out_of_range(lengths, T), jnp.where(lengths > 0, picked, initial))


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
    :func:`jaxrnn._core.caches.checked_lengths`); ``None`` without lengths."""
    if lengths is None:
        return None
    return (lengths < 0) | (lengths > T)


def nan_examples(bad, v):
    """``v`` (examples on axis 1: ``(n, m)`` or ``(n, m, T)``) NaN for the examples in ``bad``."""
    if bad is None:
        return v
    return jnp.where(bad.reshape((1, -1) + (1,) * (v.ndim - 2)), jnp.nan, v)


def checked_lengths(fn: str, lengths, m: int, T_x: int, name: str = "lengths"):
    """Every example's length: integers ``(m,)`` in ``[0, T_x]``, checked when they have values.

    Under ``jax.jit`` they do not: an example whose length lies outside ``[0, T_x]`` then gets
    NaN for its outputs and gradients (and the parameters' gradients, which sum over examples,
    are NaN), never a plausible number.
    """
    lengths = as_array(fn, name, lengths)
    if not jnp.issubdtype(lengths.dtype, jnp.integer):
        raise TypeError(f"{fn}: `{name}` must hold integers; got dtype {lengths.dtype}")
    if tuple(lengths.shape) != (m,):
        raise ValueError(
            f"{fn}: `{name}` must have shape (m,) = ({m},), one length per example; "
            f"got {tuple(lengths.shape)}"
        )
    if not isinstance(lengths, jax.core.Tracer):
        low, high = int(np.min(lengths)), int(np.max(lengths))
        if low < 0 or high > T_x:
            raise ValueError(
                f"{fn}: `{name}` must lie in [0, T_x] = [0, {T_x}]; got values in [{low}, {high}]"
            )
    if isinstance(lengths, jax.core.Tracer):
        return jnp.asarray(lengths, jnp.int32)
    return host_array(lengths, np.int32)  # a copy: the caller may write into theirs
