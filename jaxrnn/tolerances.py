"""Every tolerance jaxrnn compares with, by dtype, in one place, each with its reason.

Errors are measured as ``max |got - want| / (atol + rtol * max |want|)`` per array (see
:func:`scaled_error`): relative to the array's scale, so that entries near zero in a gradient
whose other entries are large do not count as wildly "relative" errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    reason: str


#: jaxrnn against the documents' printed expected outputs (on top of the printed rounding).
DOCUMENT = {
    np.dtype("float64"): Tolerance(0.0, 0.0, "float64 reproduces every printed digit"),
    np.dtype("float32"): Tolerance(
        1e-5, 1e-6,
        "float32 rounds the inputs (eps 1.2e-7) and tens of dependent operations; the largest "
        "deviation from float64 measured on the eight cells is 1.6e-6 on a value of 11.3",
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

#: hand-derived backward against central finite differences (float64 only: in float32 the
#: truncation and cancellation errors of the difference quotient swamp the comparison).
#: Compared along a standard-normal direction u: |FD - <g, u>| / (|g| + noise / rtol + atol),
#: |g| the 2-norm, the typical size of <g, u> (which itself can nearly cancel for an unlucky u),
#: and noise the difference quotient's rounding noise (FINITE_DIFFERENCE_NOISE below).
FINITE_DIFFERENCE = Tolerance(
    1e-6, 1e-9,
    "central differences with step h = 1e-5 (times the input's scale) have truncation error "
    "~h^2 = 1e-10 times the third derivative and cancellation error ~eps |J| / h ~ 1e-11 |J|; "
    "atol keeps gradients that vanish (saturated gates) from dividing 0 by 0",
)  # fmt: skip

#: The cancellation error of the central difference, counted as gradient size it cannot
#: resolve: noise = FINITE_DIFFERENCE_NOISE * eps * M / h, M = sum |cotangent * output|, the
#: magnitude the loss's rounding is relative to. A gradient small against it (|g| = 1.8e-5
#: for a saturated RNN's da0, loss 0.47) is only checkable to that noise: measured there
#: |FD - <g, u>| = 1.9 (median) to 4.4 (largest, 20 directions) times eps |J| / h, which
#: against rtol |g| alone failed a gradient that equals jax.vjp's to the last bit.
FINITE_DIFFERENCE_NOISE = 16.0


def tolerance(table: dict, dtype) -> Tolerance:
    dtype = np.dtype(dtype)
    if dtype not in table:
        raise ValueError(f"no tolerance for dtype {dtype}; jaxrnn compares float32 and float64")
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
