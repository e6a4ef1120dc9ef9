"""The report on a learner's solution: one block per exercise, as the documents name them,
each finding what is wrong, then where, then one ``hint:`` line with the fix; as text, as
JSON, and as rich output in a notebook."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from jaxrnn.solution.diagnose import SPECS, Verdict, equations_of
from jaxrnn.solution.learner import Raised

#: what every verdict is measured against, said once at the top of the report
AGAINST = (
    "Each function is called the documents' way (NumPy float64, the documents' caches) on "
    "the documents' test cell and on random shapes, and compared with jaxrnn: a forward with "
    "jaxrnn's forward, a backward with jax.vjp of it in float64 and with central finite "
    "differences, never with printed numbers."
)


#: how many wrong outputs a block shows one by one
SHOWN = 3


@dataclass
class Report:
    """What ``jaxrnn check FILE`` found: ``ok``, ``exit_status``, one :class:`Verdict` per
    exercise the solution defines; ``print(report)`` for the text, ``to_json()``."""

    files: list
    verdicts: list
    found: list = field(default_factory=list)  # the documents' functions the solution defines
    checking: list = field(default_factory=list)  # those of them asked for
    loading: list = field(default_factory=list)  # (where, Raised) skipped while loading
    output: str = ""  # what the learner's code printed
    unreadable: str | None = None  # why the solution could not be read at all

    @property
    def ok(self) -> bool:
        return self.unreadable is None and bool(self.verdicts) and all(v.ok for v in self.verdicts)

    @property
    def exit_status(self) -> int:
        """0 when every exercise found is right, 1 when one is wrong, 2 when the solution could
        not be read (or defines none of the documents' functions)."""
        if self.unreadable is not None or not self.verdicts:
            return 2
        return 0 if self.ok else 1

    @property
    def not_found(self) -> list:
        return [name for name in SPECS if name not in self.found]

    # text

    def text(self) -> str:
        if self.unreadable is not None:
            return self.header()
        lines = [self.header()]
        for verdict in self.verdicts:
            lines += verdict_lines(verdict)
        return "\n".join([*lines, "", self.summary()])

    def header(self) -> str:
        """The report's first lines: what was read, what every verdict means, and what raised
        while the solution loaded."""
        head = f"jaxrnn check {' '.join(self.files)}"
        if self.unreadable is not None:
            return f"{head}\nerror: {self.unreadable}"
        found = f"{head}: {len(self.found)} of the documents' 8 exercises found"
        if self.not_found and self.found:
            found += " (not " + ", ".join(str(SPECS[n].number) for n in self.not_found) + ")"
        if self.checking and len(self.checking) < len(self.found):
            found += "; checking " + ", ".join(str(SPECS[n].number) for n in self.checking)
        lines = [_wrapped(found, ""), _wrapped(AGAINST, ""), "", *_loading_lines(self.loading)]
        return "\n".join(lines)

    def summary(self) -> str:
        if not self.verdicts:
            return "no function of the documents' names was found: nothing to check"
        wrong = [v for v in self.verdicts if not v.ok]
        n = len(self.verdicts)
        text = f"{n} exercise{'s' * (n > 1)} checked: "
        numbers = ", ".join(str(v.number) for v in wrong)
        text += f"{len(wrong)} wrong ({numbers})" if wrong else "all right"
        printed = self.output.count("\n")
        if printed:
            text += f"; your code printed {printed} lines (kept apart; --show-output shows them)"
        return text

    __str__ = text

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.text() + "\n```"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text())}</pre>"

    # JSON

    def to_dict(self) -> dict:
        return {
            "files": list(self.files),
            "ok": self.ok,
            "exit_status": self.exit_status,
            "unreadable": self.unreadable,
            "exercises": [verdict_dict(v) for v in self.verdicts],
            "found": [SPECS[n].number for n in self.found],
            "not_found": [SPECS[n].number for n in self.not_found],
            "loading": [{"where": where, "error": _error_dict(r)} for where, r in self.loading],
            "output_lines": self.output.count("\n"),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def verdict_dict(verdict: Verdict) -> dict:
    spec = SPECS[verdict.function]
    return {
        "number": verdict.number,
        "function": verdict.function,
        "defined_at": verdict.defined_at,
        "ok": verdict.ok,
        "wrong": list(verdict.wrong),
        "right": list(verdict.right),
        "suspects": list(verdict.suspects),
        "first_wrong_step": verdict.first_wrong_step,
        "steps": verdict.steps,
        "problem": verdict.problem or verdict.error_problem,
        "slip": verdict.slip.id if verdict.slip else None,
        "fix": verdict.slip.fix if verdict.slip else verdict.hint,
        "error": _error_dict(verdict.error),
        "caches_from": verdict.caches_from,
        "cell_ok": verdict.cell_ok,
        "notes": list(verdict.notes),
        "findings": [_finding_dict(spec, verdict.findings[n]) for n in verdict.wrong],
    }


def _finding_dict(spec, finding) -> dict:
    """One wrong output: the equations it depends on, in the document's form, and where."""
    order = list(spec.module.EQUATIONS)
    where = finding.where
    return {
        "name": finding.name,
        "equations": {e: spec.module.EQUATIONS[e]
                      for e in sorted(equations_of(spec, finding.name), key=order.index)},
        "problem": finding.problem,
        "error": None if finding.problem else finding.error,
        "worst_index": list(where.index) if where else None,
        "worst_meaning": where.meaning if where else None,
        "steps": list(where.steps) if where and where.steps else None,
    }  # fmt: skip


def _error_dict(raised: Raised | None):
    if raised is None:
        return None
    return {"type": raised.kind, "message": raised.message, "where": raised.where,
            "line": raised.source}  # fmt: skip


def verdict_lines(verdict: Verdict) -> list[str]:
    """One exercise's block: the verdict, then the diagnosis, one finding a line."""
    spec = SPECS[verdict.function]
    mark = "✓" if verdict.ok else "✗"
    lines = [f"{mark} Exercise {verdict.number} — {verdict.function}  ({verdict.defined_at})"]
    say = lambda text: lines.append(_wrapped(text, "    "))  # noqa: E731
    if verdict.error is not None:
        say(f"error: {verdict.error}, on {verdict.error_problem}")
        if verdict.error.where:
            say(f"at {verdict.error.where}: {verdict.error.source}")
    if verdict.wrong:
        say(f"wrong: {', '.join(verdict.wrong)}, on {verdict.problem}")
        say(f"right: {', '.join(verdict.right) or 'nothing'}")
        for name in verdict.wrong[:SHOWN]:
            say(_finding_line(spec, verdict.findings[name]))
        if len(verdict.wrong) > SHOWN:
            say(f"... and {len(verdict.wrong) - SHOWN} more (--json has every one)")
    if verdict.first_wrong_step is not None:
        say(_step_line(spec, verdict))
    for note in verdict.notes:
        say(note)
    if verdict.caches_from is not None and not verdict.ok:
        say(f"the caches came from {verdict.caches_from} {spec.forward}"
            + (" (which is right)" if verdict.caches_from == "your" else ""))  # fmt: skip
    if verdict.suspects and verdict.suspects != ["the loop"]:
        equations = spec.module.EQUATIONS
        say(f"suspect{'s' * (len(verdict.suspects) > 1)}: " + "; ".join(
            f"eq. {e} {equations[e]}" if e.startswith("(") else f"{e}: {equations[e]}"
            for e in verdict.suspects))  # fmt: skip
    elif verdict.suspects:
        say("suspect: the loop over the steps, not the cell's equations")
    if verdict.slip is not None:
        say(f"slip: {verdict.slip.says} [{verdict.slip.id}]")
        say(f"hint: {verdict.slip.fix}")
    elif verdict.hint is not None:
        say(f"hint: {verdict.hint}")
    elif not verdict.ok and verdict.error is None:
        say("no slip jaxrnn knows gives these results: the suspects and the step above are "
            "what there is to go on")  # fmt: skip
    return lines


def _finding_line(spec, finding) -> str:
    order = list(spec.module.EQUATIONS)
    equations = ", ".join(sorted(equations_of(spec, finding.name), key=order.index))
    head = f"{finding.name}" + (f" (eqs. {equations})" if equations else "")
    if finding.problem is not None:
        return f"{head}: {finding.problem}"
    if finding.where is None:
        return f"{head}: off by {finding.error:.1e}"
    return f"{head}: {finding.where}"


def _step_line(spec, verdict) -> str:
    """Where a loop first goes wrong: a backward's dx from the last step, a forward's states
    from the first."""
    t, last = verdict.first_wrong_step, verdict.steps - 1
    if spec.backward:
        if t == last:
            return f"dx is wrong from the last step, {t}, on: the first step the loop computes"
        later = f"step {last}" if t == last - 1 else f"steps {t + 1} to {last}"
        return f"dx is right at {later} and first departs at step {t}, counted from the last"
    states = " and ".join(spec.cell.state)
    if t == 0:
        return f"{states} depart at step 0 already"
    earlier = "step 0" if t == 1 else f"steps 0 to {t - 1}"
    return (
        f"{states} {'is' if len(spec.cell.state) == 1 else 'are'} right at {earlier} and "
        f"first depart{'s' * (len(spec.cell.state) == 1)} at step {t}"
    )


def _loading_lines(loading) -> list[str]:
    """What raised while the solution loaded: a missing module once, with the cells after it
    that raised ``NameError`` (on names it would have defined, as a rule)."""
    if not loading:
        return []
    lines = ["While your code loaded, these raised (and the rest ran):"]
    missing = [(w, r) for w, r in loading if r.missing_module]
    names = [(w, r) for w, r in loading if r.kind == "NameError"] if missing else []
    for where, raised in missing:
        text = f"{where}: there is no module {raised.missing_module!r} here"
        if names:
            text += "; then NameError in " + ", ".join(
                f"{w.split(', ')[-1]} ({_undefined(r)})" for w, r in names
            )
        lines.append(_wrapped(text, "  "))
    for where, raised in loading:
        if (where, raised) not in missing and (where, raised) not in names:
            lines.append(_wrapped(f"{where}: {raised}", "  "))
    return [*lines, ""]


def _undefined(raised: Raised) -> str:
    """The name a ``NameError`` says is not defined."""
    parts = raised.message.split("'")
    return parts[1] if len(parts) > 2 else "?"


def _wrapped(text: str, indent: str, width: int = 100) -> str:
    """``text`` wrapped to ``width``, every line indented (continuations by two more)."""
    import textwrap

    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False)  # fmt: skip
