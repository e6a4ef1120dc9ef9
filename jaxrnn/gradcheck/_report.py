"""The checker's answer: one row per gradient, each opinion a column, and the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from jaxrnn.gradcheck.tolerances import RESOLVED
from jaxrnn.gradcheck.where import Where


@dataclass(frozen=True)
class Opinion:
    """One opinion of a gradient besides ``jax.vjp``'s: its error, the tolerance it is held
    to, and whether it could be formed (``settled``: finite differences that settle on no
    value, or a forward forward mode cannot differentiate, give none)."""

    error: float | None = None
    tolerance: float | None = None
    settled: bool = True
    problem: str | None = None  # why it fails other than by its error (an error under vmap)
    #: in the error's units, the error rounding of the problem's largest gradient can make
    #: (:func:`jaxrnn.gradcheck.tolerances.rounding_floor`); ``None`` where not measured
    floor: float | None = None

    @property
    def ok(self) -> bool:
        if self.problem is not None:
            return False
        return not self.settled or self.error <= self.tolerance

    @property
    def within_floor(self) -> bool:
        """Failed by its own tolerance, but within the problem's rounding floor."""
        return self.problem is None and self.floor is not None and self.error <= self.floor


@dataclass(frozen=True)
class GradientCheck:
    """One gradient's verdict. Errors are ``max |manual - ref| / max |ref|`` (see tolerances).

    ``fd_rel_error`` and ``fd_tolerance`` are ``None`` when finite differences did not run;
    ``fd_settled`` is ``False`` when they ran and settled on no value (see the module). The
    other opinions (``adjoint``, ``batched``, ``second_order``) are :class:`Opinion` s, or
    ``None`` where they did not run. ``where`` says where a wrong gradient is worst.
    """

    name: str
    shape: tuple
    max_abs_error: float = math.nan
    rel_error: float = math.nan
    tolerance: float = math.nan
    fd_rel_error: float | None = None
    fd_tolerance: float | None = None
    problem: str | None = None
    fd_settled: bool | None = None
    #: measured against jax.vjp in float64, by
    #: :func:`jaxrnn.gradcheck.tolerances.low_precision_tolerance`
    against_float64: bool = False
    #: the absolute part of the tolerance: ``max |manual - ref| <= atol + tolerance * scale``,
    #: ``scale`` the reference's largest entry
    atol: float = 0.0
    scale: float = math.nan
    adjoint: Opinion | None = None
    batched: Opinion | None = None
    second_order: Opinion | None = None
    where: Where | None = None
    #: ``False`` where no jax.vjp could be taken (a NumPy forward): finite differences judge
    vjp: bool = True
    #: what rounding moves the manual gradient by, times ROUNDING_NOISE, allowed besides
    #: (measured only where the tolerance alone is exceeded; :mod:`jaxrnn.gradcheck.tolerances`)
    noise: float = 0.0
    #: the difference from jax.vjp that rounding of the problem's largest gradient can make
    #: (:func:`jaxrnn.gradcheck.tolerances.rounding_floor`)
    floor: float = math.nan

    @property
    def bound(self) -> float:
        """``max |manual - ref|`` allowed: ``atol + tolerance * scale + noise``."""
        return self.atol + self.tolerance * self.scale + self.noise

    @property
    def vjp_ok(self) -> bool:
        return not self.vjp or self.max_abs_error <= self.bound

    @property
    def resolved(self) -> bool:
        """Whether rounding leaves the gradient measurable: its noise allowance at most
        RESOLVED of its size."""
        return not self.noise > RESOLVED * self.scale

    @property
    def ok(self) -> bool:
        if self.problem is not None:
            return False
        if not self.vjp_ok or not self.resolved:
            return False
        if not self.vjp and self.fd_settled is not True:  # no opinion at all settled
            return False
        if self.fd_rel_error is not None and not self.fd_rel_error <= self.fd_tolerance:
            return False
        return all(o is None or o.ok for o in (self.adjoint, self.batched, self.second_order))

    @property
    def undecided(self) -> bool:
        """Neither agreeing nor wrong: it differs from jax.vjp (or forward mode) by more than
        its own tolerance but by less than rounding of the problem's largest gradient can make
        (:func:`jaxrnn.gradcheck.tolerances.rounding_floor`), or by less than rounding moves
        it, which is more than RESOLVED of itself; and every other opinion agrees or is within
        its floor."""
        if self.ok or self.problem is not None or not self.vjp:
            return False
        if not self.vjp_ok and not self.max_abs_error <= self.floor:
            return False
        if self.fd_rel_error is not None and not self.fd_rel_error <= self.fd_tolerance:
            return False
        if self.adjoint is not None and not (self.adjoint.ok or self.adjoint.within_floor):
            return False
        return all(o is None or o.ok for o in (self.batched, self.second_order))


@dataclass(frozen=True)
class Report:
    """The checker's answer: one :class:`GradientCheck` per gradient, and a printable table."""

    dtype: str
    rows: list[GradientCheck]
    #: gradients the backward did not return and ``jax.vjp`` gives as exactly zero
    not_returned: list[str] = field(default_factory=list)
    #: gradients the caller asked not to check
    skipped: list[str] = field(default_factory=list)
    #: why an opinion asked for could not be formed (``{"adjoint": "..."}``)
    not_applicable: dict = field(default_factory=dict)
    #: the tolerance the caller gave, ``(rtol, atol)``, or ``None`` for the dtype's
    tolerances: tuple | None = None

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def failed(self) -> list[str]:
        """The wrong gradients' names."""
        return [row.name for row in self.rows if not row.ok and not row.undecided]

    @property
    def undecided(self) -> list[str]:
        """Gradients the check cannot decide: too small against the problem's other gradients
        for rounding to leave them measurable (saturated gates), or moved by rounding by more
        than RESOLVED of themselves; not ``ok``, not failed."""
        return [row.name for row in self.rows if row.undecided]

    @property
    def unsettled(self) -> list[str]:
        """Gradients whose finite differences settled on no value (checked by ``jax.vjp``)."""
        return [row.name for row in self.rows if row.fd_settled is False]

    def table(self) -> str:
        rows = self.rows
        fd = any(r.fd_settled is not None for r in rows)
        columns = [
            ("adjoint", "vs jvp", "jvp tol"),
            ("batched", "vmap err", "vmap tol"),
            ("second_order", "2nd-order err", "2nd tol"),
        ]
        shown = [c for c in columns if any(getattr(r, c[0]) is not None for r in rows)]
        tol_head = f"tol ({self.dtype})" if self.tolerances is None else "tol (yours)"
        head = ["gradient", "shape", "max abs err", "max rel err", tol_head]
        head += ["FD rel err", "FD tol"] if fd else []
        for _, error, tol in shown:
            head += [error, tol]
        body = []
        for r in rows:
            # the noise as a fraction of the gradient (of an exactly zero one: infinite)
            tol = r.tolerance + (0.0 if not r.noise else r.noise / r.scale if r.scale else math.inf)
            line = [r.name, str(r.shape), _f(r.max_abs_error), _f(r.rel_error), _f(tol)]
            if not r.vjp:
                line[2:5] = ["-", "-", "-"]
            if fd:
                settled = r.fd_settled is not False
                line += [_f(r.fd_rel_error) if settled else "unsettled", _f(r.fd_tolerance)]
            for attribute, _, _ in shown:
                opinion = getattr(r, attribute)
                if opinion is None or not opinion.settled:
                    line += ["-", "-"]
                elif opinion.problem is not None:
                    line += [opinion.problem, "-"]
                else:
                    line += [_f(opinion.error), _f(opinion.tolerance)]
            body.append([*line, _result(r)])
        head.append("result")
        return "\n".join([format_table([head, *body]), *self.notes(), self.verdict()])

    def notes(self) -> list[str]:
        """The lines under the table: what was left out, and how some gradients were judged."""
        notes = []
        if self.not_returned:
            by = "exactly 0 by jax.vjp" if all(r.vjp for r in self.rows) else (
                "0 by finite differences"
            )  # fmt: skip
            notes.append(f"not returned by the backward, and {by}: " + ", ".join(self.not_returned))
        if self.skipped:
            notes.append(
                "skipped at the caller's request (not checked): " + ", ".join(self.skipped)
            )
        if self.tolerances is not None:
            rtol, atol = self.tolerances
            notes.append(f"tolerances yours: rtol {rtol:g}, atol {atol:g} (not the {self.dtype} "
                         f"defaults of jaxrnn/gradcheck/tolerances.py)")  # fmt: skip
        exact = [row.name for row in self.rows if row.against_float64]
        if exact:
            notes.append(
                f"measured against jax.vjp in float64 (rounding in {self.dtype} can be as "
                "large as a gradient): " + ", ".join(exact)
            )
        if self.unsettled:
            alone = "finite differences alone" if not all(r.vjp for r in self.rows) else (
                "jax.vjp alone"
            )  # fmt: skip
            notes.append(
                "finite differences settled on no value for "
                + ", ".join(self.unsettled)
                + f" (no step size gave consistent quotients); checked against {alone}"
            )
        unformed = [r.name for r in self.rows if r.adjoint is not None and not r.adjoint.settled]
        if unformed:
            notes.append(
                "forward mode formed no opinion of " + ", ".join(unformed) + ": rounding moves "
                "the backward's <g, v> by more than 1% of the dot products' size"
            )
        noisy = [row.name for row in self.rows if row.noise]
        if noisy:
            notes.append(
                "tolerance counting the rounding noise measured (the backward given its cache "
                "moved by eps): " + ", ".join(noisy)
            )
        if self.undecided:
            notes.append(
                "undecided (rounding decides): " + ", ".join(self.undecided) + ": further from "
                "the reference than their own tolerance, but within what rounding of the "
                "problem's largest gradient can make (64 eps of it), or "
                "within what rounding moves them by, more than 1% of themselves: too small, or "
                "too saturated, to be checked here; inputs of smaller scale check them"
            )
        notes += [f"{what}: {why}" for what, why in self.not_applicable.items()]
        return notes

    def verdict(self) -> str:
        if self.ok:
            return "all gradients agree"
        if not self.rows:
            return "nothing checked"
        undecided = "undecided (rounding): " + ", ".join(self.undecided)
        if not self.failed:
            return "none wrong, but not all checked: " + undecided
        return "WRONG: " + ", ".join(self.failed) + ("; " + undecided if self.undecided else "")

    __str__ = table


def _result(row: GradientCheck) -> str:
    if row.ok:
        return "ok"
    if row.undecided:
        return "undecided (rounding)"
    text = "FAIL" + (f": {row.problem}" if row.problem else "")
    if row.problem is None:
        against = [label for label, wrong in (
            ("jax.vjp", not row.vjp_ok),
            ("finite differences", row.fd_rel_error is not None
             and not row.fd_rel_error <= row.fd_tolerance),
            ("no opinion settled", not row.vjp and row.fd_settled is not True),
            ("jax.jvp", row.adjoint is not None and not row.adjoint.ok),
            ("vmap", row.batched is not None and not row.batched.ok),
            ("second order", row.second_order is not None and not row.second_order.ok),
        ) if wrong]  # fmt: skip
        text += " (" + ", ".join(against) + ")" if against else ""
    if row.where is not None:
        text += f" at [{', '.join(map(str, row.where.index))}] ({row.where.meaning})"
        if row.where.steps is not None:
            first, last = row.where.steps
            text += f", steps {first}-{last}" if first != last else f", step {first}"
    return text


def format_table(rows: list[list]) -> str:
    """Rows of cells as text, each column as wide as its widest cell."""
    widths = [max(len(str(x)) for x in column) for column in zip(*rows, strict=True)]
    return "\n".join(
        "  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _f(value) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1e}"
    )
