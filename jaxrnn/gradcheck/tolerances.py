"""Every tolerance jaxrnn compares with, by dtype, in one place, each with one sentence of why.

The measurements behind each value are on the documentation's page "What jaxrnn guarantees".
Errors are measured as ``max |got - want| / (atol + rtol * max |want|)`` per array (see
:func:`scaled_error`): relative to the array's scale, so that entries near zero in a gradient
whose other entries are large do not count as wildly "relative" errors.

complex64 and complex128 have no tolerances of their own: the checker judges a complex array
as its real and imaginary parts (:mod:`jaxrnn.gradcheck._complex`), which round as float32's
and float64's do, so those dtypes' tolerances hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``rtol`` and ``atol`` of one comparison, and why they are what they are."""

    rtol: float
    atol: float
    reason: str


#: bfloat16 as NumPy's dtype, the key its tolerances are found by
BFLOAT16 = np.dtype(jnp.bfloat16)

#: jaxrnn against the documents' printed expected outputs (on top of the printed rounding)
DOCUMENT = {
    np.dtype("float64"): Tolerance(0.0, 0.0, "float64 reproduces every printed digit"),
    np.dtype("float32"): Tolerance(
        1e-5, 1e-6, "float32's rounding of the inputs and tens of dependent operations"
    ),
    np.dtype("float16"): Tolerance(1e-2, 5e-3, "float16 keeps 11 bits"),
    BFLOAT16: Tolerance(2e-2, 5e-2, "bfloat16 keeps 8 bits"),
}  # fmt: skip

#: hand-derived backward against ``jax.vjp`` of the forward: the same mathematics in another
#: order, so they differ by rounding alone
AGREEMENT = {
    np.dtype("float64"): Tolerance(
        1e-10, 0.0, "float64's rounding amplified by at most ~1e6 along long chains"
    ),
    np.dtype("float32"): Tolerance(
        2e-4, 0.0, "float32's rounding accumulated over ~100 steps and the batch's sums"
    ),
}  # fmt: skip

#: a learner's NumPy solution (``jaxrnn check FILE``) against jaxrnn in float64
LEARNER = Tolerance(
    1e-10, 1e-12,
    "NumPy and XLA round float64 differently by ~1e-14, a slip moves results by 1e-3 and more; "
    "atol for arrays that are exactly zero",
)  # fmt: skip


@dataclass(frozen=True)
class LowPrecision:
    """Agreement in a dtype whose rounding can exceed a gradient's size."""

    #: the manual gradient may be this many times farther from float64's answer than jax.vjp
    #: in the same dtype is ...
    factor: float
    #: ... or this many eps of the dtype (relative to the gradient's largest entry)
    floor: float
    reason: str


#: hand-derived backward against ``jax.vjp`` where rounding can be as large as the gradient:
#: always in float16 and bfloat16, in float32 where AGREEMENT's rtol is exceeded
#: (:func:`low_precision_tolerance`)
LOW_PRECISION = {
    np.dtype("float32"): LowPrecision(
        8.0, 64.0, "a cancelling sum in float32, rarely, rounds as much as jax.vjp's does"
    ),
    np.dtype("float16"): LowPrecision(
        8.0, 64.0, "a cancelling sum rounds as much as the gradient, in jax.vjp too"
    ),
    BFLOAT16: LowPrecision(
        8.0, 64.0, "a cancelling sum rounds as much as the gradient, in jax.vjp too"
    ),
}  # fmt: skip


def low_precision_tolerance(dtype, reference, exact) -> float:
    """The relative tolerance for a gradient in ``dtype`` measured against ``exact``, the
    float64 answer: as far from it as ``reference`` (jax.vjp in ``dtype``) is, times the
    factor, or the floor in eps of the dtype."""
    rule = LOW_PRECISION[np.dtype(dtype)]
    eps = float(jnp.finfo(dtype).eps)
    return max(rule.factor * relative_error(reference, exact), rule.floor * eps)


def agreement_target(dtype, got, want, exact=None) -> tuple:
    """What a hand-derived gradient ``got`` in ``dtype`` is judged against, and how closely:
    ``(reference, rtol, atol, against_float64)``.

    ``want`` (jax.vjp in the same dtype) at AGREEMENT's tolerance; or, in float16 and bfloat16
    always and in float32 where that rtol is exceeded, float64's answer ``exact()`` (called
    only then) at :func:`low_precision_tolerance`. Without ``exact``, a dtype that has no
    AGREEMENT tolerance raises ``ValueError``.
    """
    dtype = np.dtype(dtype)
    tol = AGREEMENT.get(dtype)
    if exact is not None and dtype in LOW_PRECISION:
        if tol is None or relative_error(got, want) > tol.rtol:
            truth = np.asarray(exact(), np.float64)
            return truth, low_precision_tolerance(dtype, want, truth), 0.0, True
    tol = tolerance(AGREEMENT, dtype)
    return want, tol.rtol, tol.atol, False


#: a gradient outside its tolerance is allowed this many times its measured rounding noise
#: (the backward given its cache moved by eps): ``1 - a**2`` of saturated states rounds so
ROUNDING_NOISE = 4.0
#: ... where that allowance is at most this fraction of the gradient; beyond, rounding moves
#: it as far as a small wrong term would, and it is *undecided*
RESOLVED = 1e-2

#: the rounding floor in eps of the dtype, of the subject's largest gradient entry: below it a
#: small gradient, rounded like the larger terms it is summed from, is *undecided*
ROUNDING_FLOOR_EPS = 64.0


def rounding_floor(dtype, largest: float, atol: float = 0.0) -> float:
    """The difference from a reference below which rounding, not mathematics, decides:
    ``atol + ROUNDING_FLOOR_EPS * eps * largest``, ``largest`` the subject's largest gradient
    entry, ``eps`` the dtype's. A gradient small against the others (gates saturated by
    pre-activations of +-30) is rounded like the terms it is summed from, which are of the
    other gradients' size; a difference within the floor decides nothing either way: the
    gradient is *undecided*."""
    return atol + ROUNDING_FLOOR_EPS * float(jnp.finfo(dtype).eps) * largest


#: hand-derived backward against forward mode (the dot-product test), in float64:
#: ``|<u, J v> - <g, v>|`` over the size of the two dot products' terms
ADJOINT = Tolerance(
    1e-10, 0.0, "the same products as reverse mode in another order, rounded in float64"
)
#: forward mode is also taken at the inputs moved by eps, and the tolerance counts this many
#: times the change: what a chaotic recurrence amplifies the forward's rounding into
ADJOINT_NOISE = 4.0

#: hand-derived backward against central finite differences in float64, along each direction
#: ``u``: ``|FD - <g, u>| / (||g|| + atol)``, plus what the quotients could resolve
FINITE_DIFFERENCE = Tolerance(
    1e-6, 1e-9,
    "1e-6 fails an error of 1e-3 of one entry of a gradient of 10**5 entries; atol keeps a "
    "vanishing gradient from dividing 0 by 0",
)  # fmt: skip

#: the difference quotient's cancellation, counted as gradient size it cannot resolve:
#: ``NOISE * eps * (M + S) / h``, ``M`` the loss's magnitude, ``S`` what rounding the inputs
#: moves it by (``SENSITIVITY`` times), large in a chaotic recurrence
FINITE_DIFFERENCE_NOISE = 16.0
#: how many times the rounding of the inputs moves the loss, in the count above
FINITE_DIFFERENCE_SENSITIVITY = 4.0


@dataclass(frozen=True)
class Steps:
    """How the finite-difference check chooses its step (:mod:`jaxrnn.gradcheck`)."""

    #: the largest step, times ``max(1, max |input|)``, and how many halvings follow it
    h0: float
    count: int
    #: columns of Richardson's tableau (errors in ``h**2``, ``h**4``, ... eliminated)
    levels: int
    #: neighbouring estimates (down a column) that must agree for an estimate to be used
    window: int
    #: ... to within this fraction of the estimate (or within the rounding noise)
    plateau: float
    #: the estimate's resolution: ``safety`` times the window's spread, plus the rounding
    #: noise times ``noise_gain`` (Richardson's weights add up to at most 2)
    safety: float
    noise_gain: float
    #: an estimate that resolves less than this fraction of ``||g||`` is no opinion: unsettled
    useful: float
    reason: str


#: the finite-difference check's choice of step
FINITE_DIFFERENCE_STEPS = Steps(
    h0=0.1, count=38, levels=4, window=4, plateau=1e-2, safety=2.0, noise_gain=2.0, useful=0.1,
    reason="no one step fits a smooth problem (best near 1e-3) and a chaotic one (near 1e-10)",
)  # fmt: skip

#: where finite differences judge alone (a NumPy forward), a gradient of up to this many
#: entries is checked entry by entry: no error of any entry can hide
FULL_JACOBIAN_ENTRIES = 64
#: ... and a larger one along a sign vector and this many Gaussian directions, along which no
#: structured error (a transpose, a sign) cancels: a chance pass of an error of 1e-3 is ~1e-19
GAUSSIAN_DIRECTIONS = 6


def tolerance(table: dict, dtype) -> Tolerance:
    """The tolerance of ``table`` for ``dtype``, or ``ValueError`` naming those there are."""
    dtype = np.dtype(dtype)
    if dtype not in table:
        known = ", ".join(d.name for d in table)
        raise ValueError(f"no tolerance for dtype {dtype} here; this comparison knows {known}")
    return table[dtype]


def scaled_error(got, want, tol: Tolerance) -> float:
    """Largest deviation in units of the tolerance: at most 1 means agreement."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    scale = tol.atol + tol.rtol * float(np.max(np.abs(want), initial=0.0))
    diff = float(np.max(np.abs(got - want), initial=0.0))
    if not np.all(np.isfinite(got)) or not np.all(np.isfinite(want)):
        return float("inf")
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


def relative_error(got, want) -> float:
    """``max |got - want| / max |want|`` (0 when both are 0): the figure reports print."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    diff = float(np.max(np.abs(got - want), initial=0.0))
    scale = float(np.max(np.abs(want), initial=0.0))
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return float("inf")
    return diff / scale if scale else (0.0 if diff == 0.0 else float("inf"))


__all__ = [
    "ADJOINT", "ADJOINT_NOISE", "AGREEMENT", "BFLOAT16", "DOCUMENT", "FINITE_DIFFERENCE",
    "FINITE_DIFFERENCE_NOISE", "FINITE_DIFFERENCE_SENSITIVITY", "FINITE_DIFFERENCE_STEPS",
    "FULL_JACOBIAN_ENTRIES", "GAUSSIAN_DIRECTIONS", "LEARNER", "LOW_PRECISION", "LowPrecision",
    "RESOLVED", "ROUNDING_FLOOR_EPS", "ROUNDING_NOISE", "Steps", "Tolerance", "agreement_target",
    "low_precision_tolerance", "relative_error", "rounding_floor", "scaled_error", "tolerance",
]  # fmt: skip
