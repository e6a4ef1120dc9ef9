"""Central finite differences of the forward, in float64, the step chosen by Richardson
extrapolation: the opinion that needs nothing of the forward but its values, so the one that
judges a NumPy forward's gradients (run untraced, step by step)."""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.autodiff import documents_names
from jaxrnn.gradcheck._report import Opinion
from jaxrnn.gradcheck._subject import Subject, array_fault, with_leaves
from jaxrnn.gradcheck.tolerances import (
    FINITE_DIFFERENCE,
    FINITE_DIFFERENCE_NOISE,
    FINITE_DIFFERENCE_SENSITIVITY,
    FINITE_DIFFERENCE_STEPS,
    FULL_JACOBIAN_ENTRIES,
    GAUSSIAN_DIRECTIONS,
)


def _scalar_loss(out, cotangents, magnitude=False, numpy=False):
    """``sum <cotangent, output>`` of a forward's outputs; with ``magnitude``,
    ``sum |cotangent| * |output|``."""
    pairs = zip(cotangents, out if isinstance(out, tuple) else (out,), strict=False)
    xp = np if numpy else jnp
    if magnitude:
        return sum(xp.vdot(xp.abs(c), xp.abs(xp.asarray(o))) for c, o in pairs)
    return sum(xp.vdot(c, xp.asarray(o)) for c, o in pairs)


def directions(shape, rng, traced: bool) -> np.ndarray:
    """The directions a gradient of ``shape`` is checked along, ``(K, *shape)``.

    Where ``jax.vjp`` judges too (a JAX forward), one random sign vector. Where finite
    differences judge alone (a NumPy forward), enough that a wrong gradient cannot pass by
    chance: every entry on its own (the whole Jacobian-vector product, column by column) up to
    :data:`~jaxrnn.gradcheck.tolerances.FULL_JACOBIAN_ENTRIES` entries; beyond, the sign vector and
    :data:`~jaxrnn.gradcheck.tolerances.GAUSSIAN_DIRECTIONS` Gaussian ones, along each of which an
    error is a continuous random variable that no structure of the error (a transpose, a sign) can
    cancel.
    """
    size = int(np.prod(shape, dtype=int))
    signs = rng.choice([-1.0, 1.0], size=(1, *shape))
    if traced:
        return signs
    if size <= FULL_JACOBIAN_ENTRIES:
        return np.eye(size).reshape(size, *shape)
    gaussian = rng.standard_normal((GAUSSIAN_DIRECTIONS, *shape))
    return np.concatenate([signs, gaussian])


def finite_differences(subject: Subject, manual: dict, reference: dict | None, names,
                       seed: int, caller=None) -> dict:  # fmt: skip
    """Per gradient, an :class:`~jaxrnn.gradcheck._report.Opinion`: central differences
    against the manual gradient along each of its :func:`directions` ``u``, the step chosen by
    Richardson extrapolation; of several directions, the one furthest out of its tolerance
    (settled only where every direction settled, unless one fails).

    For steps ``h_k = h_0 / 2**k`` (``FINITE_DIFFERENCE_STEPS``), the quotients
    ``D_k = (J(θ + h_k u) - J(θ - h_k u)) / 2 h_k`` are extrapolated to ``h = 0``
    (Richardson's tableau, as Ridders' method builds it). The estimate used is the one whose
    window of neighbouring estimates agrees best, counting the quotient's rounding noise; it
    must sit on a plateau of the tableau (neighbours within 1% of it, or within the noise).
    The same extrapolation of ``D_k - <g, (θ_+ - θ_-) / 2 h_k>`` measures the manual
    gradient's error along the steps actually taken: ``θ ± h u`` rounds in float64.
    A sign vector weighs every entry alike, so an error of ``e`` in one entry moves
    ``<g, u>`` by exactly ``e``. ``reference`` (``jax.vjp``'s, or ``None`` for a NumPy
    forward, where the manual gradient stands in) sizes the rounding noise. ``caller``,
    ``(rtol, atol)``, replaces FINITE_DIFFERENCE's tolerance: ``rtol``, and ``atol`` as every
    entry's share of ``<g, u>``.
    """
    rng = np.random.default_rng(seed)
    steps = FINITE_DIFFERENCE_STEPS
    results = {}
    with jax.enable_x64(True):
        exact = subject.in_float64()
        if not subject.traced:
            exact = _numpy(exact)
        if subject.dtype != np.float64:  # the backward again, in float64; what it leaves
            again = exact.manual()  # out is judged as the zeros it was given as
            manual = {**{n: np.zeros(np.shape(v)) for n, v in manual.items()}, **again}
        size = reference if reference is not None else manual
        sensitivity = math.sqrt(sum(
            float(np.sum((np.asarray(g, np.float64) * np.asarray(exact.leaf(n))) ** 2))
            for n, g in size.items() if array_fault(g) is None
            and np.shape(g) == np.shape(exact.leaf(n))
        ))  # fmt: skip
        losses = _losses(exact)
        for name in names:
            gradient, leaf = manual.get(name), exact.leaf(name)
            if gradient is None or array_fault(gradient) is not None or leaf is None:
                continue
            gradient = np.asarray(gradient, np.float64)
            if leaf.shape != gradient.shape or not np.all(np.isfinite(gradient)):
                continue
            if not np.any(gradient) and reference is not None and np.any(reference[name]):
                continue  # "returned zero where the gradient is not": said so, not measured
            theta = np.asarray(leaf)
            hs = steps.h0 * max(1.0, float(np.max(np.abs(theta)))) * 0.5 ** np.arange(steps.count)
            found = []
            for direction in directions(theta.shape, rng, subject.traced):
                plus = theta[None] + hs.reshape(-1, *([1] * theta.ndim)) * direction
                minus = theta[None] - hs.reshape(-1, *([1] * theta.ndim)) * direction
                f, magnitude = losses(name, np.concatenate([plus, minus]))
                # what rounding moves the loss by: its terms' size, and what rounding the inputs
                # alone moves it by (large for a chaotic recurrence, whose quotients then carry
                # a bias that looks like a plateau)
                noise_size = np.finfo(np.float64).eps * (
                    FINITE_DIFFERENCE_NOISE * magnitude
                    + FINITE_DIFFERENCE_SENSITIVITY * sensitivity
                )
                quotients = (f[: steps.count] - f[steps.count :]) / (2 * hs)
                taken = np.sum((gradient * (plus - minus)).reshape(steps.count, -1), axis=1) / (
                    2 * hs
                )
                along = float(np.vdot(gradient, direction))  # <g, u>, no step's rounding
                found.append(_extrapolated(quotients, taken, noise_size / hs, gradient, along,
                                           _tolerance(caller, direction)))  # fmt: skip
            error, tolerance, settled = _worst(found)
            results[name] = Opinion(error, tolerance, settled=settled)
    return results


def _worst(found: list) -> tuple:
    """Of several directions' ``(error, tolerance, settled)``, the verdict of them all: one
    that fails, the furthest out; else, where one did not settle, unsettled; else the one
    nearest its tolerance."""
    settled = [r for r in found if r[2]]
    failing = [r for r in settled if not r[0] <= r[1]]
    if failing:
        return max(failing, key=lambda r: r[0] / r[1])
    if len(settled) < len(found):
        return None, None, False
    return max(settled, key=lambda r: r[0] / r[1])


def _numpy(subject: Subject) -> Subject:
    """A NumPy forward's subject with NumPy float64 arrays, for running it untraced."""
    as_numpy = lambda v: np.asarray(v) if hasattr(v, "shape") else v  # noqa: E731
    inputs = {n: jax.tree.map(as_numpy, v) for n, v in subject.inputs.items()}
    cotangents = tuple(np.asarray(c) for c in subject.cotangents)
    return dataclasses.replace(subject, inputs=inputs, cotangents=cotangents)


def _losses(subject: Subject):
    """``losses(name, leaves (K, ...)) -> ((K,), magnitude)``: the scalar loss with the leaf of
    ``name`` replaced by each of ``leaves``, and ``sum |cotangent| * |output|`` at the
    subject's inputs; one compiled program for a JAX forward, a loop for NumPy."""
    if subject.traced:

        def both(vals):
            out = subject.call(*vals)
            return (_scalar_loss(out, subject.cotangents),
                    _scalar_loss(out, subject.cotangents, magnitude=True))  # fmt: skip

        # one forward per point: the subject's own inputs are the last point, whose
        # magnitude is the one wanted (a second forward would double the program)
        @jax.jit
        def mapped(stacked):
            return jax.lax.map(both, stacked)

        def losses(name, leaves):
            leaves = np.concatenate([leaves, np.asarray(subject.leaf(name))[None]])
            count = len(leaves)
            # per input: jax.tree.map of the dictionary itself would sort its keys
            stacked = {
                k: jax.tree.map(lambda v: np.broadcast_to(np.asarray(v), (count, *np.shape(v))), v)
                for k, v in subject.inputs.items()
            }
            stacked = with_leaves(stacked, {**documents_names(stacked), name: leaves})
            # indexed in NumPy: indexing a JAX array compiles a program of its own
            f, magnitude = map(np.asarray, mapped(tuple(stacked.values())))
            return f[:-1], float(magnitude[-1])

        return losses

    magnitude = functools.cache(lambda: float(
        _scalar_loss(subject.call(*subject.values), subject.cotangents, True, numpy=True)
    ))  # fmt: skip

    def losses(name, leaves):
        return np.array([
            float(_scalar_loss(subject.call(*subject.with_leaf(name, leaf).values()),
                               subject.cotangents, numpy=True))
            for leaf in leaves
        ]), magnitude()  # fmt: skip

    return losses


def _richardson(values, levels: int):
    """Richardson's tableau for a sequence in ``h_k = h_0 / 2**k`` with error in ``h**2``."""
    table = np.full((len(values), levels), np.nan)
    for k, value in enumerate(values):
        table[k, 0] = value
        for j in range(1, min(k, levels - 1) + 1):
            factor = 4.0**j
            table[k, j] = (factor * table[k, j - 1] - table[k - 1, j - 1]) / (factor - 1)
    return table


def _spread(table, window: int):
    """Per entry, the range of it and the ``window - 1`` entries above it in its column."""
    spread = np.full(table.shape, np.inf)
    for k in range(window - 1, len(table)):
        block = table[k - window + 1 : k + 1]
        with np.errstate(invalid="ignore"):
            spread[k] = np.max(block, axis=0) - np.min(block, axis=0)
    spread[~np.isfinite(spread)] = np.inf
    return spread


def _tolerance(caller, direction):
    """``(rtol, atol)`` of a direction: FINITE_DIFFERENCE's, or the caller's ``(rtol, atol)``
    with ``atol`` as every entry's share of ``<g, u>``: ``atol * sum |u|``."""
    if caller is None:
        return FINITE_DIFFERENCE.rtol, 0.0
    return caller[0], caller[1] * float(np.sum(np.abs(direction)))


def _extrapolated(quotients, taken, noise, gradient, along, tolerance):
    """``(error, tolerance, settled)`` from the quotients and ``<g, step>`` per step size;
    ``along``, ``<g, u>``; ``tolerance``, ``(rtol, absolute)`` of :func:`_tolerance`.
    Quotients that are all exactly 0 (the loss does not move along ``u`` at all: an input it
    does not reach, or a softmax's logits all moved alike) settle on 0 itself, against which
    ``<g, u>`` is measured: no rounding made them."""
    steps = FINITE_DIFFERENCE_STEPS
    tol = FINITE_DIFFERENCE
    rtol, absolute = tolerance
    scale = float(np.linalg.norm(gradient)) + tol.atol
    if not np.any(quotients):
        return abs(along) / scale, rtol + absolute / scale, True
    derivative = _richardson(quotients, steps.levels)
    error = _richardson(quotients - taken, steps.levels)
    rounding = noise[:, None] * steps.noise_gain
    with np.errstate(invalid="ignore"):
        plateau = _spread(derivative, steps.window) <= steps.plateau * np.abs(derivative)
    resolution = steps.safety * _spread(error, steps.window) + rounding
    resolution[~plateau] = np.inf
    if not np.isfinite(resolution).any() or np.min(resolution) > steps.useful * scale:
        return None, None, False
    k, j = np.unravel_index(np.argmin(resolution), resolution.shape)
    return (
        abs(float(error[k, j])) / scale,
        rtol + (absolute + float(resolution[k, j])) / scale,
        True,
    )
