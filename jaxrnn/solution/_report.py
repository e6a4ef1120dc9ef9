"""The report on a learner's solution: one block per exercise, as the documents name them,
each finding what is wrong, then where, then one ``hint:`` line with the fix; as text, as
JSON, and as rich output in a notebook."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from jaxrnn._core.equations import as_text
from jaxrnn.solution._diagnose import SPECS, Verdict, equations_of
from jaxrnn.solution._protocol import Raised

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
    #: ``{name: (where, Raised)}``: functions defined only in code that did not run (a cell
    #: that does not parse, or raised before its ``def``): not checked
    unrun: dict = field(default_factory=dict)
    #: ``{name: [where, ...]}``: functions defined in several files, the last one checked
    shadowed: dict = field(default_factory=dict)
    #: the exercises asked for (``--exercise``), by name; ``None`` for every one found
    asked: list | None = None
    #: ``{name: (first line, lines)}``: each function's code, which the page shows
    sources: dict = field(default_factory=dict, repr=False)

    @property
    def unchecked(self) -> list:
        """The functions asked for that the solution defines but that were not checked: their
        code did not run."""
        return [n for n in self.unrun if self.asked is None or n in self.asked]

    @property
    def absent(self) -> list:
        """The exercises asked for that the solution does not define at all."""
        defined = set(self.found) | set(self.unrun)
        return [n for n in self.asked or () if n not in defined]

    @property
    def ok(self) -> bool:
        """Every exercise the solution defines (of those asked for) was checked and is
        right."""
        return (self.unreadable is None and bool(self.verdicts) and not self.unchecked
                and all(v.ok for v in self.verdicts))  # fmt: skip

    @property
    def exit_status(self) -> int:
        """0 when every exercise the solution defines (of those asked for) was checked and is
        right; 1 when one is wrong, not written yet, or was not checked (its code did not
        run); 2 when the solution could not be read, or defines none of those asked for."""
        if self.unreadable is not None or not (self.verdicts or self.unchecked):
            return 2
        return 0 if self.ok else 1

    @property
    def not_found(self) -> list:
        return [name for name in SPECS if name not in self.found and name not in self.unrun]

    # text

    def text(self) -> str:
        if self.unreadable is not None:
            return self.header()
        lines = [self.header()]
        for verdict in self.verdicts:
            lines += verdict_lines(verdict)
        lines += self.unchecked_lines()
        return "\n".join([*lines, "", self.summary()])

    def unchecked_lines(self) -> list[str]:
        """A block for each function defined only in code that did not run."""
        lines = []
        for name in self.unchecked:
            where, raised = self.unrun[name]
            lines.append(f"? Exercise {SPECS[name].number} — {name}  ({where})")
            lines.append(_wrapped(f"not checked: its code did not run ({raised}); fix that "
                                  f"and check again", "    "))  # fmt: skip
        return lines

    def header(self) -> str:
        """The report's first lines: what was read, what every verdict means, and what raised
        while the solution loaded."""
        head = f"jaxrnn check {' '.join(self.files)}"
        if self.unreadable is not None:
            return f"{head}\nerror: {self.unreadable}"
        defined = len(self.found) + len(self.unrun)
        found = f"{head}: {defined} of the documents' 8 exercises found"
        if self.not_found and defined:
            found += " (not " + ", ".join(str(SPECS[n].number) for n in self.not_found) + ")"
        if self.asked is not None:
            checking = [n for n in SPECS if n in self.asked and n not in self.absent]
            if len(checking) < defined:
                found += "; checking " + (", ".join(str(SPECS[n].number) for n in checking)
                                          or "none")  # fmt: skip
        lines = [_wrapped(found, ""), _wrapped(AGAINST, ""), "", *_loading_lines(self.loading)]
        for name, places in self.shadowed.items():
            lines.insert(len(lines) - 1, _wrapped(
                f"{name} is defined in {', '.join(places[:-1])} and {places[-1]}: the last is "
                f"checked", ""))  # fmt: skip
        return "\n".join(lines)

    def summary(self) -> str:
        absent = ", ".join(str(SPECS[n].number) for n in self.absent)
        if not self.verdicts and not self.unchecked:
            if self.absent:
                return f"exercise{'s' * (len(self.absent) > 1)} {absent} not in the file: " \
                       "nothing to check"  # fmt: skip
            return "no function of the documents' names was found: nothing to check"
        numbers = lambda vs: ", ".join(str(v.number) for v in vs)  # noqa: E731
        unwritten = [v for v in self.verdicts if v.unwritten]
        failed = [v for v in self.verdicts if v.unchecked]
        wrong = [v for v in self.verdicts if not v.ok and v not in unwritten + failed]
        n = len(self.verdicts)
        parts = [f"{len(wrong)} wrong ({numbers(wrong)})"] if wrong else []
        parts += [f"{len(unwritten)} not written yet ({numbers(unwritten)})"] if unwritten else []
        parts += [f"{len(failed)} jaxrnn could not check ({numbers(failed)})"] if failed else []
        text = f"{n} exercise{'s' * (n != 1)} checked: " + (", ".join(parts) or "all right")
        if not n:
            text = "no exercise checked"
        if self.unchecked:
            numbers_unrun = ", ".join(str(SPECS[name].number) for name in self.unchecked)
            text += f"; not checked, their code did not run: {numbers_unrun}"
        if self.absent:
            text += f"; not in the file: {absent}"
        printed = self.output.count("\n")
        if printed:
            text += f"; your code printed {printed} lines (kept apart; --show-output shows them)"
        return _wrapped(text, "")

    __str__ = text

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.text() + "\n```"

    def _repr_html_(self) -> str:
        """The page, inline in a notebook."""
        from jaxrnn import _html
        from jaxrnn.solution._page import body

        return _html.fragment(body(self))

    def to_html(self) -> str:
        """The report as one self-contained page (``jaxrnn check FILE --html``)."""
        from jaxrnn.solution._page import page

        return page(self)

    # JSON

    def to_dict(self, output: bool = False) -> dict:
        """The report as plain data; ``output``: with what the learner's code printed."""
        found = {
            "files": list(self.files),
            "ok": self.ok,
            "exit_status": self.exit_status,
            "unreadable": self.unreadable,
            "exercises": [verdict_dict(v) for v in self.verdicts],
            "found": [SPECS[n].number for n in SPECS if n in self.found or n in self.unrun],
            "not_found": [SPECS[n].number for n in self.not_found],
            "not_checked": [
                {"number": SPECS[n].number, "function": n, "where": self.unrun[n][0],
                 "error": _error_dict(self.unrun[n][1])}
                for n in self.unchecked
            ],
            "not_in_file": [SPECS[n].number for n in self.absent],
            "loading": [{"where": where, "error": _error_dict(r)} for where, r in self.loading],
            "output_lines": self.output.count("\n"),
        }  # fmt: skip
        if output:
            found["output"] = self.output
        return found

    def to_json(self, output: bool = False) -> str:
        return json.dumps(self.to_dict(output), indent=2)


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
        "case": verdict.case or verdict.error_case,
        "slip": verdict.slip.id if verdict.slip else None,
        "fix": verdict.slip.fix if verdict.slip else verdict.hint,
        "error": _error_dict(verdict.error),
        "caches_from": verdict.caches_from,
        "cell_ok": verdict.cell_ok,
        "notes": list(verdict.notes),
        "unwritten": list(verdict.unwritten),
        "swapped_step": verdict.swapped_step[0] if verdict.swapped_step else None,
        "unchecked": verdict.unchecked,
        "findings": [_finding_dict(spec, verdict.findings[n]) for n in verdict.wrong],
    }


def _finding_dict(spec, finding) -> dict:
    """One wrong output: the equations it depends on, in the document's form, and where."""
    order = list(spec.module.EQUATIONS)
    where = finding.where
    return {
        "name": finding.name,
        "equations": {e: as_text(spec.module.EQUATIONS[e])
                      for e in sorted(equations_of(spec, finding.name), key=order.index)},
        "fault": finding.fault,
        "error": None if finding.fault else finding.error,
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
    if verdict.unchecked is not None:
        say(f"not checked: jaxrnn failed while checking it ({verdict.unchecked}); that is a "
            f"fault of jaxrnn's, not of your code: please report it")  # fmt: skip
        return lines
    if verdict.unwritten:
        say(f"not written yet: returns None for {', '.join(verdict.unwritten)}")
        return lines
    if verdict.error is not None:
        say(f"error: {verdict.error}, on {verdict.error_case}")
        if verdict.error.where:
            say(f"at {verdict.error.where}: {verdict.error.source}")
    if verdict.wrong:
        say(f"wrong: {', '.join(verdict.wrong)}, on {verdict.case}")
        say(f"right: {', '.join(verdict.right) or 'nothing'}")
        for name in verdict.wrong[:SHOWN]:
            say(_finding_line(spec, verdict.findings[name]))
        if len(verdict.wrong) > SHOWN:
            say(f"... and {len(verdict.wrong) - SHOWN} more (--json has every one)")
    if verdict.first_wrong_step is not None:
        say(_step_line(spec, verdict.first_wrong_step, verdict.steps))
    for note in verdict.notes:
        say(note)
    if verdict.swapped_step is not None:
        swapped = f"with jaxrnn's {spec.uses} in its place"
        say(f"{swapped}, {_step_line(spec, *verdict.swapped_step)}")
    if verdict.caches_from is not None and not verdict.ok:
        say(f"the caches came from {verdict.caches_from} {spec.forward}"
            + (" (which is right)" if verdict.caches_from == "your" else ""))  # fmt: skip
    if verdict.suspects and verdict.suspects != ["the loop"]:
        equations = spec.module.EQUATIONS
        say(f"suspect{'s' * (len(verdict.suspects) > 1)}: " + "; ".join(
            f"eq. {e} {as_text(equations[e])}" if e.startswith("(") else
            f"{e}: {as_text(equations[e])}"
            for e in verdict.suspects))  # fmt: skip
    elif verdict.suspects:
        say("suspect: the loop over the steps, not the cell's equations")
    if verdict.slip is not None:
        say(f"slip: {verdict.slip.says} [{verdict.slip.id}]")
        say(f"hint: {verdict.slip.fix}")
    elif verdict.hint is not None:
        say(f"hint: {verdict.hint}")
    elif not verdict.ok and verdict.error is None and verdict.suspects:
        shown = [what for what, there in (
            ("the suspect" + "s" * (len(verdict.suspects) > 1), True),
            ("the step", verdict.first_wrong_step is not None),
        ) if there]  # fmt: skip
        say(f"no slip jaxrnn knows gives these results: {' and '.join(shown)} above "
            f"{'are' if len(shown) > 1 or len(verdict.suspects) > 1 else 'is'} what there is "
            f"to go on")  # fmt: skip
    return lines


def _finding_line(spec, finding) -> str:
    order = list(spec.module.EQUATIONS)
    equations = ", ".join(sorted(equations_of(spec, finding.name), key=order.index))
    head = f"{finding.name}" + (f" (eqs. {equations})" if equations else "")
    if finding.fault is not None:
        return f"{head}: {finding.fault}"
    if finding.where is None:
        return f"{head}: off by {finding.error:.1e}"
    return f"{head}: {finding.where}"


def _step_line(spec, t: int, steps: int) -> str:
    """Where a loop first goes wrong: a backward's dx from the last step, a forward's states
    from the first."""
    last = steps - 1
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
