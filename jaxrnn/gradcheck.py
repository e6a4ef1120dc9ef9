"""Check anyone's hand-written backward pass against ``jax.vjp`` and finite differences.

>>> import numpy as np, jaxrnn
>>> from jaxrnn.gradcheck import check_backward
>>> rng = np.random.default_rng(0)
>>> p = jaxrnn.cells.LSTM.random_parameters(rng, 3, 4, 2)
>>> xt, a_prev, c_prev = (rng.standard_normal(s).astype(np.float32)
...                        for s in [(3, 5), (4, 5), (4, 5)])
>>> def broken(da_next, dc_next, cache):  # eq. (20) without its factor ft in the second term
...     g = jaxrnn.lstm_cell_backward(da_next, dc_next, cache)
...     a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
...     return g | {"dc_prev": dc_next * ft + ot * (1 - np.tanh(c_next) ** 2) * da_next}
>>> cotangents = (np.ones((4, 5), np.float32), np.ones((4, 5), np.float32))
>>> report = check_backward(jaxrnn.lstm_cell_forward, broken,
...     {"xt": xt, "a_prev": a_prev, "c_prev": c_prev, "parameters": p}, cotangents)
>>> report.ok, report.failed
(False, ['dc_prev'])

``print(report)`` shows the table: per gradient the largest absolute and relative error, the
tolerance for the dtype and pass or fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.autodiff import vjp
from jaxrnn.tolerances import (
    AGREEMENT,
    FINITE_DIFFERENCE,
    FINITE_DIFFERENCE_NOISE,
    relative_error,
    tolerance,
)


@dataclass(frozen=True)
class GradientCheck:
    """One gradient's verdict. Errors are ``max |manual - ref| / max |ref|`` (see tolerances)."""

    name: str
    shape: tuple
    max_abs_error: float = math.nan
    rel_error: float = math.nan
    tolerance: float = math.nan
    fd_rel_error: float | None = None
    fd_tolerance: float | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        if self.problem is not None or not self.rel_error <= self.tolerance:
            return False
        return self.fd_rel_error is None or self.fd_rel_error <= self.fd_tolerance


@dataclass(frozen=True)
class Report:
    """The checker's answer: one :class:`GradientCheck` per gradient, and a printable table."""

    dtype: str
    rows: list[GradientCheck]
    not_returned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def failed(self) -> list[str]:
        return [row.name for row in self.rows if not row.ok]

    def table(self) -> str:
        fd = any(row.fd_rel_error is not None for row in self.rows)
        head = ["gradient", "shape", "max abs err", "max rel err", f"tol ({self.dtype})"]
        head += ["FD rel err", "FD tol"] if fd else []
        body = []
        for r in self.rows:
            line = [r.name, str(r.shape), _f(r.max_abs_error), _f(r.rel_error), _f(r.tolerance)]
            if fd:
                line += [_f(r.fd_rel_error), _f(r.fd_tolerance)]
            body.append([*line, "ok" if r.ok else f"FAIL{': ' + r.problem if r.problem else ''}"])
        head.append("result")
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
        lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
                 for row in [head, *body]]  # fmt: skip
        verdict = "all gradients agree" if self.ok else "WRONG: " + ", ".join(self.failed)
        extra = [f"not returned by the backward (not checked): {', '.join(self.not_returned)}"]
        return "\n".join([*lines, *(extra if self.not_returned else []), verdict])

    __str__ = table


def _f(value) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1e}"
    )


def _as(value, dtype):
    """Floating arrays in ``dtype``; anything else as it is."""
    if jnp.issubdtype(jnp.result_type(value), jnp.floating):
        return jnp.asarray(value, dtype)
    return value


def _leaves(gradients: Mapping) -> dict:
    """``{"xt": g, "parameters": {"Wf": g}}`` -> ``{"dxt": g, "dWf": g}``, the documents' names."""
    flat = {}
    for name, value in gradients.items():
        for key, leaf in value.items() if isinstance(value, Mapping) else [(name, value)]:
            flat[f"d{key}"] = leaf
    return flat


def _with_leaf(inputs: Mapping, gradient_name: str, fn: Callable) -> dict:
    """``inputs`` with the leaf the gradient ``d<name>`` belongs to replaced by ``fn(leaf)``."""
    out = {}
    for name, value in inputs.items():
        if isinstance(value, Mapping):
            out[name] = {k: fn(v) if f"d{k}" == gradient_name else v for k, v in value.items()}
        else:
            out[name] = fn(value) if f"d{name}" == gradient_name else value
    return out


def _manual(forward, backward, inputs, cotangents, style):
    if style == "documents":
        cache = forward(*inputs.values())[-1]
        return dict(backward(*cotangents, cache))
    if style == "vjp":
        return _leaves(backward(dict(inputs), tuple(cotangents)))
    raise ValueError(f"check_backward: `style` must be 'documents' or 'vjp'; got {style!r}")


def _scalar_loss(forward, values, cotangents, magnitude=False):
    """``sum <cotangent, output>``; with ``magnitude``, ``sum |cotangent| * |output|``."""
    outputs = forward(*values)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    pairs = zip(cotangents, outputs, strict=False)
    if magnitude:
        return sum(jnp.vdot(jnp.abs(c), jnp.abs(o)) for c, o in pairs)
    return sum(jnp.vdot(c, o) for c, o in pairs)


def check_backward(
    forward: Callable,
    backward: Callable,
    inputs: Mapping,
    cotangents,
    *,
    style: str = "documents",
    finite_differences: bool = False,
    seed: int = 0,
) -> Report:
    """Compare a hand-written backward pass with ``jax.vjp`` (and finite differences).

    Arguments:
        forward: the forward function, called as ``forward(*inputs.values())``. Its leading
            outputs receive the cotangents; in the documents' style its last output is the cache.
        backward: the hand-written backward. ``style="documents"``: called as
            ``backward(*cotangents, cache)`` and returning ``{"d<name>": gradient}`` where
            ``name`` is an input's name or a key of a dictionary input (``dxt``, ``da_prev``,
            ``dWf``...). ``style="vjp"``: called as ``backward(inputs, cotangents)`` and
            returning gradients with the inputs' names and structure.
        inputs: the forward's arguments by name, in order (a dictionary of parameters is fine).
            Floating inputs are cast to their common dtype, which sets the tolerance.
        cotangents: one array, or a tuple with one per leading output of ``forward``.
        finite_differences: also compare, in float64, with central differences of
            ``sum(cotangent * output)`` along a random direction per gradient.
        seed: seeds the finite-difference directions.

    Returns:
        A :class:`Report`; ``report.ok``, ``report.failed`` (the wrong gradients' names),
        ``print(report)`` for the table. Gradients the backward does not return (the documents
        leave out the output layer's) are listed as not checked.
    """
    cotangents = tuple(cotangents) if isinstance(cotangents, (tuple, list)) else (cotangents,)
    leaves = [
        x for x in jax.tree.leaves(dict(inputs)) if jnp.issubdtype(jnp.result_type(x), jnp.floating)
    ]
    dtype = np.dtype(jnp.result_type(*leaves))
    tol = tolerance(AGREEMENT, dtype)
    # one dtype throughout: jax.vjp returns each gradient in its own input's dtype
    inputs = {name: jax.tree.map(lambda v: _as(v, dtype), value) for name, value in inputs.items()}
    # one compiled program for the reference; values go in positionally, since a dictionary
    # through jit comes back with its keys sorted and the forward takes its inputs in order
    names = list(inputs)
    pullback = jax.jit(
        lambda values, cots: vjp(forward, dict(zip(names, values, strict=True)), cots)
    )
    reference = _leaves(pullback(tuple(inputs.values()), cotangents))
    manual = _manual(forward, backward, inputs, cotangents, style)
    fd = (
        _finite_differences(
            forward,
            backward,
            inputs,
            cotangents,
            style,
            seed,
            manual if dtype == np.float64 else None,
        )
        if finite_differences
        else {}
    )

    rows = []
    for name, got in manual.items():
        if name not in reference:
            rows.append(
                GradientCheck(name, tuple(np.shape(got)), problem=f"no input named {name[1:]!r}")
            )
            continue
        want = np.asarray(reference[name])
        got = np.asarray(got)
        fd_error, fd_tol = fd.get(name, (None, None))
        if got.shape != want.shape:
            problem = f"shape {got.shape}, expected {want.shape}"
            rows.append(GradientCheck(name, got.shape, tolerance=tol.rtol, problem=problem))
            continue
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        rows.append(
            GradientCheck(
                name, got.shape,
                max_abs_error=float(np.max(diff, initial=0.0)),
                rel_error=relative_error(got, want),
                tolerance=tol.rtol,
                fd_rel_error=fd_error,
                fd_tolerance=fd_tol,
                problem=None if np.all(np.isfinite(got)) else "not finite",
            )
        )  # fmt: skip
    return Report(dtype.name, rows, [name for name in reference if name not in manual])


def _finite_differences(forward, backward, inputs, cotangents, style, seed, manual) -> dict:
    """Per gradient, the relative error of ``<manual, u>`` against central differences.

    ``manual`` holds the backward's float64 gradients when the check already ran in float64;
    otherwise (``None``) the backward runs again here on float64 copies of the inputs.
    """
    rng = np.random.default_rng(seed)
    tol = FINITE_DIFFERENCE
    results = {}
    with jax.enable_x64(True):
        as64 = lambda v: jnp.asarray(v, jnp.float64)  # noqa: E731
        inputs64 = {name: jax.tree.map(as64, value) for name, value in inputs.items()}
        cotangents64 = tuple(as64(c) for c in cotangents)
        if manual is None:
            manual = _manual(forward, backward, inputs64, cotangents64, style)
        # positional values: a dictionary through jit would come back with its keys sorted
        loss = jax.jit(lambda *values: _scalar_loss(forward, values, cotangents64))
        # the size the loss's rounding is relative to, for the difference quotient's noise
        magnitude = _scalar_loss(forward, tuple(inputs64.values()), cotangents64, magnitude=True)
        rounding = FINITE_DIFFERENCE_NOISE * np.finfo(np.float64).eps * float(magnitude)
        for name, gradient in manual.items():
            gradient = np.asarray(gradient, np.float64)
            direction = rng.standard_normal(gradient.shape)
            leaf = _leaf_value(inputs64, name)
            if leaf is None or leaf.shape != gradient.shape:
                continue
            h = 1e-5 * max(1.0, float(np.max(np.abs(leaf), initial=0.0)))
            plus = loss(*_with_leaf(inputs64, name, lambda v, d=h * direction: v + d).values())
            minus = loss(*_with_leaf(inputs64, name, lambda v, d=h * direction: v - d).values())
            numeric = float(plus - minus) / (2 * h)
            analytic = float(np.vdot(gradient, direction))
            # <g, u> is typically |g| for a standard-normal u, but can nearly cancel by chance;
            # measuring against |g| keeps a correct gradient from failing on such a direction.
            # The quotient's own rounding noise, rounding / h, is gradient size it cannot see.
            scale = float(np.linalg.norm(gradient)) + rounding / h / tol.rtol + tol.atol
            results[name] = (abs(numeric - analytic) / scale if scale else 0.0, tol.rtol)
    return results


def _leaf_value(inputs, gradient_name):
    for name, value in inputs.items():
        if isinstance(value, Mapping):
            for key, leaf in value.items():
                if f"d{key}" == gradient_name:
                    return leaf
        elif f"d{name}" == gradient_name:
            return value
    return None
