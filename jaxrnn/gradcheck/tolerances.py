"""Every tolerance jaxrnn compares with, by dtype, in one place, each with its reason.

Errors are measured as ``max |got - want| / (atol + rtol * max |want|)`` per array (see
:func:`scaled_error`): relative to the array's scale, so that entries near zero in a gradient
whose other entries are large do not count as wildly "relative" errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    reason: str


BFLOAT16 = np.dtype(jnp.bfloat16)

#: jaxrnn against the documents' printed expected outputs (on top of the printed rounding).
DOCUMENT = {
    np.dtype("float64"): Tolerance(0.0, 0.0, "float64 reproduces every printed digit"),
    np.dtype("float32"): Tolerance(
        1e-5, 1e-6,
        "float32 rounds the inputs (eps 1.2e-7) and tens of dependent operations; the largest "
        "deviation from float64 measured on the eight cells is 1.6e-6 on a value of 11.3",
    ),
    np.dtype("float16"): Tolerance(
        1e-2, 5e-3,
        "float16 keeps 11 bits (eps 9.8e-4); the largest deviations measured on the eight "
        "cells are 2.6e-3 on a value of 2.3 and 2.0e-3 on 0.20",
    ),
    BFLOAT16: Tolerance(
        2e-2, 5e-2,
        "bfloat16 keeps 8 bits (eps 7.8e-3); the largest deviations measured on the eight "
        "cells are 4.8e-2 on a value of 11.3 and 4.0e-2 on 0.16",
    ),
}  # fmt: skip

#: hand-derived backward against jax.vjp / jax.grad of the forward: the same mathematics
#: evaluated in a different order, so they differ by rounding alone.
AGREEMENT = {
    np.dtype("float64"): Tolerance(
        1e-10, 0.0, "float64 rounding (eps 2.2e-16) amplified by at most ~1e6 by long chains"
    ),
    np.dtype("float32"): Tolerance(
        2e-4, 0.0,
        "float32 rounding (eps 1.2e-7) accumulated through up to ~100 time steps and sums over "
        "the batch; JAX's own check_grads uses 2e-3 for float32 gradients",
    ),
}  # fmt: skip


#: a learner's NumPy solution (``jaxrnn check FILE``) against jaxrnn in float64: the same
#: equations, in NumPy's order of operations instead of XLA's.
LEARNER = Tolerance(
    1e-10, 1e-12,
    "NumPy and XLA round float64 differently (eps 2.2e-16), by at most ~1e-14 of the largest "
    "entry on the documents' cells and the problems jaxrnn check draws; a slip moves results "
    "by 1e-3 and more. atol is for arrays that are exactly zero (dx beyond da's steps), where "
    "a learner's own order of operations may leave a rounding residue",
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


_LOW_PRECISION_REASON = (
    "In float16 and bfloat16 a gradient that is a sum of terms which cancel is computed with "
    "an error as large as itself, by jax.vjp as much as by a hand-derived backward (measured: "
    "a bfloat16 dbi of size 0.009, 24% off float64 by the manual backward, 2.6% by jax.vjp). "
    "So both are measured against jax.vjp in float64, and the manual gradient agrees when it "
    "is no more than 8 times as far from it as jax.vjp in the same dtype, or within 64 eps. "
    "Over 1,880 gradients of random shapes per dtype the largest ratio to that tolerance was "
    "0.49 (bfloat16) and 0.29 (float16). An error smaller than 64 eps (0.5 in bfloat16, 0.06 "
    "in float16) can pass: check in float64 to see finer"
)
_FLOAT32_REASON = (
    "float32 has the same cancellation, rarely: a 1 x 1 dWaa summed over a batch of 4 came out "
    "5.8e-4 off jax.vjp in float32, beyond AGREEMENT's 2e-4, with both as far from float64's "
    "answer. A float32 gradient outside 2e-4 of jax.vjp is therefore measured against float64 "
    "as float16's is, before it is called wrong. Over 1,880 float32 gradients of random "
    "shapes (up to 60 steps) every one was within 0.39 of that rule's tolerance"
)

#: hand-derived backward against jax.vjp where rounding can be as large as the gradient:
#: always in float16 and bfloat16; in float32 where AGREEMENT's rtol is exceeded (see
#: :func:`low_precision_tolerance`)
LOW_PRECISION = {
    np.dtype("float32"): LowPrecision(8.0, 64.0, _FLOAT32_REASON),
    np.dtype("float16"): LowPrecision(8.0, 64.0, _LOW_PRECISION_REASON),
    BFLOAT16: LowPrecision(8.0, 64.0, _LOW_PRECISION_REASON),
}


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


#: A hand-derived gradient is also allowed this many times its rounding noise, measured: how
#: far its backward's answer moves when what it is given (its cache) is moved by eps of the
#: dtype, relative, at random (:func:`jaxrnn.gradcheck._opinions.rounding_noise`). Measured
#: where AGREEMENT's rtol fails jaxrnn's own correct backward: an RNN at 300 times the usual
#: weights, ``1 - a**2`` of saturated states, dx 1.3e-8 of itself off jax.vjp in float64
#: (jax.vjp forms ``(1 + a)(1 - a)``, exact there), which moving its cache by eps moves by
#: 8.7e-8 of itself. Nothing is added where the tolerance holds, and nothing that matters for
#: a well-conditioned backward: its noise is within 100 eps of the gradient (test_gradcheck).
ROUNDING_NOISE = 4.0
#: ... where that allowance is at most this fraction of the gradient's largest entry (of the
#: dot products' size, for forward mode); beyond it rounding alone moves the gradient by as
#: much as a small wrong term would, and a gradient within its allowance is *undecided*, not
#: agreeing (forward mode forms no opinion). Measured: an LSTM's dWc of 1e-13 at 30 times the
#: usual scale moves by 0.8% of itself (undecided), the RNN's dx at 300 times by 1e-7
RESOLVED = 1e-2


#: the rounding floor in eps of the dtype, of the problem's largest gradient entry (see
#: :func:`rounding_floor`): the LOW_PRECISION rule's floor, here of the largest gradient
ROUNDING_FLOOR_EPS = 64.0


def rounding_floor(dtype, largest: float, atol: float = 0.0) -> float:
    """The difference from a reference below which rounding, not mathematics, decides:
    ``atol + ROUNDING_FLOOR_EPS * eps * largest``, ``largest`` the problem's largest gradient
    entry, ``eps`` the dtype's.

    A gradient small against the problem's others (gates saturated by pre-activations of
    +-30, where ``s (1 - s)`` and ``1 - tanh**2`` are differences of numbers next to 1) is
    rounded like the terms it is summed from, which are of the other gradients' size, not its
    own. Measured on jaxrnn's own backward passes (3 to 300 times the usual scale, seeds 0-2,
    cell and sequence, every cell, float64 and float32; ``python tests/gradcheck/saturated_sweep.py``
    runs the sweep with the rule in place): 24 of 192 checks differed from jax.vjp or forward
    mode by more than their own tolerance (a float64 dWcc of 4.5e-13 by 3.9e-8 of itself, a
    dWr of 2e-38 by 2.5e-6), all of them WRONG before this rule. Every such gradient whose
    rounding noise (:data:`ROUNDING_NOISE`) did not explain its difference was within 1.3e-3
    eps of the largest gradient: the floor leaves a margin of 5e4. A difference between the
    two bounds decides nothing either way: the gradient is *undecided*, reported as neither
    agreeing nor wrong.
    """
    return atol + ROUNDING_FLOOR_EPS * float(jnp.finfo(dtype).eps) * largest


#: hand-derived backward against forward mode (the dot-product test of jaxrnn.gradcheck), in
#: float64: |<u, J v> - <g, v>| over the size of the two dot products' terms
ADJOINT = Tolerance(
    1e-10, 0.0,
    "forward and reverse mode are the same products in another order: float64 rounding (eps "
    "2.2e-16) amplified by a long chain, plus what a chaotic recurrence amplifies the forward's "
    "own rounding into (ADJOINT_NOISE): an RNN of n_a = 16 over 50 steps (|g| ~ 1e7) gives "
    "3e-10 to 6e-10 on a correct backward, whose inputs moved by eps change <u, J v> by as much",
)  # fmt: skip
#: forward mode is also taken at the inputs moved by eps (relative, at random), and the
#: tolerance counts this many times the change: what rounding the forward moves J by
ADJOINT_NOISE = 4.0

#: hand-derived backward against central finite differences (float64 only: in float32 the
#: truncation and cancellation errors of the difference quotient swamp the comparison).
#: Compared along a random sign vector u: |FD - <g, u>| / (|g| + atol), |g| the 2-norm, the
#: typical size of <g, u>, against rtol plus what the difference quotient could resolve
#: (FINITE_DIFFERENCE_STEPS below) in the same units.
FINITE_DIFFERENCE = Tolerance(
    1e-6, 1e-9,
    "Richardson-extrapolated central differences in float64 reach 1e-9 to 1e-12 of |g| on "
    "well-conditioned problems; 1e-6 still fails an error of 1e-3 of the largest entry in one "
    "entry of a gradient of up to 10**5 entries (1e-3 / sqrt(10**5) = 3e-6); atol keeps "
    "gradients that vanish (saturated gates) from dividing 0 by 0",
)  # fmt: skip

#: The cancellation error of the central difference, counted as gradient size it cannot
#: resolve: noise = FINITE_DIFFERENCE_NOISE * eps * (M + S) / h, M = sum |cotangent * output|,
#: the magnitude the loss's rounding is relative to, and S = sum |g_vjp * input| over every
#: input, what rounding the inputs alone moves the loss by. A gradient small against it
#: (|g| = 1.8e-5 for a saturated RNN's da0, loss 0.47) is only checkable to that noise:
#: measured there |FD - <g, u>| = 1.9 (median) to 4.4 (largest, 20 directions) times
#: eps |J| / h, which against rtol |g| alone failed a gradient that equals jax.vjp's to the last
#: bit. S matters in a chaotic recurrence (an LSTM of weights 3 N(0, 1) over 200 steps, |g| ~
#: 1e10): its quotients settle only at h ~ 1e-12, biased by 1e-5 |g|, which M alone missed.
FINITE_DIFFERENCE_NOISE = 16.0
FINITE_DIFFERENCE_SENSITIVITY = 4.0


@dataclass(frozen=True)
class Steps:
    """How the finite-difference check chooses its step (``jaxrnn.gradcheck``)."""

    #: the largest step, times max(1, max |input|), and how many halvings follow it
    h0: float
    count: int
    #: columns of Richardson's tableau (errors in h^2, h^4, ... eliminated)
    levels: int
    #: neighbouring estimates (down a column) that must agree for an estimate to be used
    window: int
    #: ... to within this fraction of the estimate (or within the rounding noise)
    plateau: float
    #: the estimate's resolution: safety times the window's spread, plus the rounding noise
    #: times noise_gain (Richardson's weights add up to at most 2 times a quotient's noise)
    safety: float
    noise_gain: float
    #: an estimate that resolves less than this fraction of |g| is no opinion: unsettled
    useful: float
    reason: str


FINITE_DIFFERENCE_STEPS = Steps(
    h0=0.1, count=38, levels=4, window=4, plateau=1e-2, safety=2.0, noise_gain=2.0, useful=0.1,
    reason=(
        "No single step fits every problem: a chaotic recurrence (an RNN of n_a = 16 over 50 "
        "steps, |g| ~ 1e7) needs h ~ 1e-10 before its quotients settle, a smooth one is best "
        "at h ~ 1e-3, where rounding is small. One fixed step of 1e-5 failed correct backward "
        "passes by 5e-6 to 1e-3. Steps 0.1 / 2**k down to ~1e-12 cover both; a window of four "
        "neighbours agreeing to 1% is what a coincidence of noisy quotients does not give, so "
        "a recurrence that explodes beyond float64's reach (|g| ~ 1e66) settles nowhere and is "
        "reported so, instead of failing or passing"
    ),
)  # fmt: skip


#: where finite differences judge a gradient alone (a NumPy forward, untraced), one of up to
#: this many entries is checked entry by entry, each its own direction: no error of any entry
#: can hide. One direction costs FINITE_DIFFERENCE_STEPS.count * 2 forward calls.
FULL_JACOBIAN_ENTRIES = 64
#: ... and a larger one along a random sign vector and this many Gaussian directions. Along a
#: Gaussian direction ``u`` an error ``e`` of the gradient moves the difference by ``<e, u>``,
#: normal with spread ``|e|``: it hides below the tolerance ``t |g|`` with probability about
#: ``0.8 t |g| / |e|``, on every direction at once with that to the power 6. For an error of
#: 1e-3 of ``|g|`` and a tolerance of 1e-6 (a smooth problem) that is 1e-19; even at a
#: tolerance of 1e-4 (a direction resolved to 1e-4 only), 3e-7. A sign vector alone can be
#: orthogonal to a structured error (a transpose: ``dWaa = a_prev @ dz.T`` 127% off passed
#: along one).
GAUSSIAN_DIRECTIONS = 6


def tolerance(table: dict, dtype) -> Tolerance:
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
    "low_precision_tolerance", "relative_error", "rounding_floor", "scaled_error", "tolerance"
]  # fmt: skip
