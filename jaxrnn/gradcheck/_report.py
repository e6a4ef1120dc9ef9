"""The checker's answer: one row per gradient, each opinion a column, and the verdict.

Every opinion of a gradient is an :class:`Opinion` of one shape, whatever formed it
(``jax.vjp``, finite differences, forward mode, ``vmap``, the second order): an error and the
tolerance it is held to, and its verdict, *agrees*, *wrong*, *undecided* (rounding decides)
or none (it could not be formed). A :class:`GradientCheck` holds a gradient's opinions in a
mapping; its verdict, the table and the notes loop over them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from jaxrnn.gradcheck.where import TIME, Where

AGREES, WRONG, UNDECIDED = "agrees", "wrong", "undecided"


@dataclass(frozen=True)
class Opinion:
    """One opinion of one gradient.

    Attributes:
        error: how far the backward's gradient is from this opinion, in its own units.
        tolerance: what the error is held to.
        settled: whether the opinion could be formed (finite differences that settle on no
            value, or forward mode that rounding leaves undecided, form none: they judge
            nothing).
        fault: why it is wrong other than by its error (a backward that fails under
            ``vmap``, a zero where the gradient is not).
        floor: an error above the tolerance but within this is rounding's to decide: the
            opinion is *undecided* (:func:`jaxrnn.gradcheck.tolerances.rounding_floor`).
        unresolved: within its tolerance, but only because rounding moves the gradient by more
            than :data:`~jaxrnn.gradcheck.tolerances.RESOLVED` of itself: *undecided*.
        detail: what the table shows of it besides (``jax.vjp``: the relative error, the
            tolerance's parts, whether float64 judged).
        where: for a wrong one, where the gradient is worst (:mod:`jaxrnn.gradcheck.where`).
    """

    error: float | None = None
    tolerance: float | None = None
    settled: bool = True
    fault: str | None = None
    floor: float | None = None
    unresolved: bool = False
    detail: Mapping = field(default_factory=dict)
    where: Where | None = None

    @property
    def verdict(self) -> str | None:
        """``"agrees"``, ``"wrong"``, ``"undecided"``, or ``None`` where none was formed."""
        if self.fault is not None:
            return WRONG
        if not self.settled:
            return None
        if self.error <= self.tolerance:
            return UNDECIDED if self.unresolved else AGREES
        if self.floor is not None and self.error <= self.floor:
            return UNDECIDED
        return WRONG

    @property
    def ok(self) -> bool:
        """Agrees, or formed no opinion (which judges nothing)."""
        return self.verdict in (AGREES, None)


@dataclass(frozen=True)
class Source:
    """What forms one kind of opinion, and how the table shows it.

    Attributes:
        key: its key in :attr:`GradientCheck.opinions` (``"vjp"``, ``"fd"``...).
        label: its name where a gradient fails (``"jax.vjp"``, ``"finite differences"``).
        columns: its two columns' heads: the error and the tolerance.
        form: ``form(context) -> {gradient name: Opinion}``, or
            :class:`~jaxrnn.gradcheck._opinions.NotApplicable` saying why it cannot be formed.
        title: its name in the notes (``"forward mode"``).
    """

    key: str
    label: str
    columns: tuple[str, str]
    form: object = None
    title: str = ""


@dataclass(frozen=True)
class GradientCheck:
    """One gradient's verdict: its opinions, by :class:`Source` key, in the order they were
    formed, and what is wrong with it before any opinion (``fault``: not returned, not an
    array, the wrong shape, not finite)."""

    name: str
    shape: tuple
    opinions: Mapping[str, Opinion] = field(default_factory=dict)
    fault: str | None = None
    #: the backward's gradient and ``jax.vjp``'s (in float64 where that judged), and the
    #: gradient's axes in the documents' symbols: what the report's page draws
    manual: np.ndarray | None = field(default=None, repr=False, compare=False)
    reference: np.ndarray | None = field(default=None, repr=False, compare=False)
    dims: str | None = None

    def __getitem__(self, key: str) -> Opinion | None:
        """The opinion of one source (``row["fd"]``), or ``None`` where it was not formed."""
        return self.opinions.get(key)

    @property
    def verdict(self) -> str:
        """``"agrees"`` when every opinion formed agrees; ``"wrong"`` when one is wrong, the
        gradient has a fault, or no opinion could be formed at all; else ``"undecided"``."""
        if self.fault is not None:
            return WRONG
        verdicts = [o.verdict for o in self.opinions.values()]
        if WRONG in verdicts or all(v is None for v in verdicts):
            return WRONG
        return UNDECIDED if UNDECIDED in verdicts else AGREES

    @property
    def ok(self) -> bool:
        return self.verdict == AGREES

    @property
    def undecided(self) -> bool:
        """Neither agreeing nor wrong: an opinion leaves it to rounding (see :class:`Opinion`)
        and none says it is wrong."""
        return self.verdict == UNDECIDED

    @property
    def wrong_by(self) -> list[str]:
        """The keys of the opinions that say it is wrong."""
        return [k for k, o in self.opinions.items() if o.verdict == WRONG]

    @property
    def where(self) -> Where | None:
        return next((o.where for o in self.opinions.values() if o.where is not None), None)

    # jax.vjp's opinion, the first column, by its own names
    @property
    def vjp(self) -> bool:
        """Whether ``jax.vjp`` judged it (not for a NumPy forward)."""
        return "vjp" in self.opinions

    @property
    def rel_error(self) -> float:
        """``max |manual - jax.vjp| / max |jax.vjp|``."""
        return self.opinions["vjp"].detail["relative"] if self.vjp else math.nan

    @property
    def tolerance(self) -> float:
        """The relative tolerance against ``jax.vjp``, rounding's allowance included."""
        return self.opinions["vjp"].detail["relative_tolerance"] if self.vjp else math.nan

    @property
    def against_float64(self) -> bool:
        """Measured against ``jax.vjp`` in float64 (low precision's rounding as large as the
        gradient)."""
        return self.vjp and bool(self.opinions["vjp"].detail.get("float64"))


@dataclass(frozen=True)
class Report:
    """The checker's answer: one :class:`GradientCheck` per gradient, and a printable table."""

    dtype: str
    rows: list[GradientCheck]
    #: gradients the backward did not return and ``jax.vjp`` (or finite differences, for a
    #: NumPy forward) gives as exactly zero
    not_returned: list[str] = field(default_factory=list)
    #: gradients the caller asked not to check
    skipped: list[str] = field(default_factory=list)
    #: why an opinion asked for could not be formed (``{"forward mode": "..."}``)
    not_applicable: dict = field(default_factory=dict)
    #: the tolerance the caller gave, ``(rtol, atol)``, or ``None`` for jaxrnn's
    tolerances: tuple | None = None
    #: the sources of the opinions formed, in the table's order
    sources: list = field(default_factory=list)
    #: the gradients of complex inputs, each checked as its real and imaginary parts
    complex: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def failed(self) -> list[str]:
        """The wrong gradients' names."""
        return [row.name for row in self.rows if row.verdict == WRONG]

    @property
    def undecided(self) -> list[str]:
        """Gradients the check cannot decide: too small against the subject's other gradients
        for rounding to leave them measurable (saturated gates), or moved by rounding by more
        than RESOLVED of themselves; not ``ok``, not failed."""
        return [row.name for row in self.rows if row.undecided]

    @property
    def unsettled(self) -> list[str]:
        """Gradients whose finite differences settled on no value."""
        return [row.name for row in self.rows if row["fd"] is not None and not row["fd"].settled]

    def table(self) -> str:
        shown = [s for s in self.sources if any(s.key in r.opinions for r in self.rows)]
        head = ["gradient", "shape"]
        for source in shown:
            if source.key == "vjp":
                tol = f"tol ({self.dtype})" if self.tolerances is None else "tol (yours)"
                head += ["max abs err", "max rel err", tol]
            else:
                head += list(source.columns)
        body = []
        for r in self.rows:
            line = [r.name, str(r.shape)]
            for source in shown:
                line += _cells(source, r[source.key])
            body.append([*line, _result(r, self.sources)])
        head.append("result")
        return "\n".join([format_table([head, *body]), *self.notes(), self.verdict()])

    def notes(self) -> list[str]:
        """The lines under the table: what was left out, and how some gradients were judged."""
        notes = []
        vjp = any(r.vjp for r in self.rows)
        if self.not_returned:
            by = "exactly 0 by jax.vjp" if vjp else "0 by finite differences"
            notes.append(f"not returned by the backward, and {by}: " + ", ".join(self.not_returned))
        if self.skipped:
            notes.append(
                "skipped at the caller's request (not checked): " + ", ".join(self.skipped)
            )
        if self.tolerances is not None:
            rtol, atol = self.tolerances
            notes.append(f"tolerances yours: rtol {rtol:g}, atol {atol:g} (not the {self.dtype} "
                         f"defaults of jaxrnn/gradcheck/tolerances.py)")  # fmt: skip
        if self.complex:
            notes.append(
                "complex, checked in JAX's convention as [Re g, -Im g] along a last axis of 2 "
                "(g is what jax.vjp returns: Re(sum(w * df)) = Re(sum(g * dz))): "
                + ", ".join(self.complex)
            )
        exact = [row.name for row in self.rows if row.against_float64]
        if exact:
            notes.append(
                f"measured against jax.vjp in float64 (rounding in {self.dtype} can be as "
                "large as a gradient): " + ", ".join(exact)
            )
        if self.unsettled:
            then = "checked against jax.vjp alone" if vjp else (
                "so not checked: a NumPy forward has no other opinion"
            )  # fmt: skip
            notes.append(
                "finite differences settled on no value for " + ", ".join(self.unsettled)
                + f" (no step size gave consistent quotients); {then}"
            )  # fmt: skip
        unformed = [r.name for r in self.rows
                    if r["adjoint"] is not None and not r["adjoint"].settled]  # fmt: skip
        if unformed:
            notes.append(
                "forward mode formed no opinion of " + ", ".join(unformed) + ": rounding moves "
                "the backward's <g, v> by more than 1% of the dot products' size"
            )
        noisy = [r.name for r in self.rows if r.vjp and r["vjp"].detail.get("noise")]
        if noisy:
            notes.append(
                "tolerance counting the rounding noise measured (the backward given its cache "
                "moved by eps): " + ", ".join(noisy)
            )
        if self.undecided:
            notes.append(
                "undecided (rounding decides): " + ", ".join(self.undecided) + ": further from "
                "the reference than their own tolerance, but within what rounding of the "
                "subject's largest gradient can make (64 eps of it), or "
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

    def to_html(self) -> str:
        """The report as one self-contained page: the table, each verdict marked, and each
        wrong gradient's error drawn, entry by entry and along its time axis."""
        from jaxrnn import _html

        return _html.document(f"check_backward: {self.verdict()}", self._body())

    def _repr_html_(self) -> str:
        from jaxrnn import _html

        return _html.fragment(self._body())

    def _body(self) -> str:
        from jaxrnn import _html
        from jaxrnn._html import pictures

        shown = [s for s in self.sources if any(s.key in r.opinions for r in self.rows)]
        head = ["gradient", "shape", "verdict"] + [
            f"{_html.escape(s.label)}: error (tolerance)" for s in shown
        ]  # fmt: skip
        body = []
        for r in self.rows:
            kind = {AGREES: "right", WRONG: "wrong", UNDECIDED: "unsure"}[r.verdict]
            cells = [
                f"<code>{_html.escape(r.name)}</code>",
                _html.escape(r.shape),
                _html.mark(kind),
            ]
            for source in shown:
                values = _cells(source, r[source.key])
                if source.key == "vjp":
                    values = values[1:]  # the relative error and its tolerance
                cells.append(_html.escape(f"{values[0]} ({values[1]})" if values[1] != "-"
                                          else values[0]))  # fmt: skip
            body.append(cells)
        kind = "right" if self.ok else "unsure" if not self.failed else "wrong"
        parts = [f"<h3>{_html.mark(kind)} {_html.escape(self.verdict())}</h3>",
                 _html.table(head, body)]  # fmt: skip
        parts += [f'<p class="note">{_html.escape(note)}</p>' for note in self.notes()]
        for r in [r for r in self.rows if r.verdict == WRONG and r.manual is not None][:3]:
            if r.reference is None:
                continue
            worst = r.where.index if r.where is not None else None
            drawn = pictures.entries(r.manual, r.reference, r.dims, worst)
            parts.append(_html.figure(drawn, f"{r.name}: the error of each entry against jax.vjp"))
            if r.dims and r.dims.split()[-1] in TIME and r.manual.ndim > 1:
                first = r.where.steps[1] if r.where is not None and r.where.steps else None
                curves = {f"your {r.name}": (r.manual, r.reference)}
                drawn = pictures.steps(curves, first)
                parts.append(_html.figure(drawn, f"{r.name}: the worst error of each time step"))
        return "\n".join(parts)


def _cells(source: Source, opinion: Opinion | None) -> list[str]:
    """One opinion's cells in the table."""
    if source.key == "vjp":
        if opinion is None:
            return ["-", "-", "-"]
        d = opinion.detail
        return [_f(opinion.error), _f(d.get("relative")), _f(d.get("relative_tolerance"))]
    if opinion is None:
        return ["-", "-"]
    if not opinion.settled:
        return ["unsettled", "-"] if source.key == "fd" else ["-", "-"]
    if opinion.fault is not None and opinion.error is None:
        return [opinion.fault, "-"]
    return [_f(opinion.error), _f(opinion.tolerance)]


def _result(row: GradientCheck, sources) -> str:
    if row.ok:
        return "ok"
    if row.undecided:
        return "undecided (rounding)"
    text = "FAIL" + (f": {row.fault}" if row.fault else "")
    if row.fault is None:
        labels = {s.key: s.label for s in sources}
        against = [labels.get(k, k) + (f": {row[k].fault}" if row[k].fault else "")
                   for k in row.wrong_by]  # fmt: skip
        if not against and all(o.verdict is None for o in row.opinions.values()):
            against = ["no opinion settled"]
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
