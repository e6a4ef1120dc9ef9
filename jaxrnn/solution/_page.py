"""The report on a learner's solution as a page (``jaxrnn check FILE --html``, and the rich
output of :func:`jaxrnn.solution.check` in a notebook): the report's own words, and beside
them, for each wrong exercise, the suspect equations rendered as the document typesets them
next to the learner's lines that compute them, each wrong output's error entry by entry, and a
sequence's error step by step.
"""

from __future__ import annotations

import ast
import re

from jaxrnn import _html
from jaxrnn._html import pictures
from jaxrnn.course.exercises import COMPUTED_AS
from jaxrnn.solution._diagnose import SPECS, Verdict
from jaxrnn.solution._report import SHOWN, Report, verdict_lines

#: lines shown around a marked line of the learner's code
CONTEXT = 3


def page(report: Report) -> str:
    """The whole page, self-contained."""
    return _html.document(f"jaxrnn check {' '.join(report.files)}", body(report))


def body(report: Report) -> str:
    parts = [f"<h1>jaxrnn check {_html.escape(' '.join(report.files))}</h1>"]
    parts.append(_html.preformatted(report.header()))
    if not pictures.available():
        parts.append(f'<p class="note">{_html.escape(pictures.MISSING)}</p>')
    for verdict in report.verdicts:
        parts.append(_exercise(report, verdict))
    for line in report.unchecked_lines():
        parts.append(f'<p class="unsure">{_html.escape(line)}</p>')
    kind = "right" if report.ok else "wrong"
    parts.append(f'<h2 class="summary">{_html.mark(kind)} {_html.escape(report.summary())}</h2>')
    return "\n".join(parts)


def _kind(verdict: Verdict) -> str:
    if verdict.ok:
        return "right"
    return "unchecked" if verdict.unchecked or verdict.unwritten else "wrong"


def _exercise(report: Report, verdict: Verdict) -> str:
    spec = SPECS[verdict.function]
    head = (
        f"{_html.mark(_kind(verdict))} Exercise {verdict.number} — "
        f"<code>{verdict.function}</code> "
        f'<span class="note">({_html.escape(verdict.defined_at)})</span>'
    )
    parts = [f'<section class="exercise" id="exercise-{verdict.number}"><h2>{head}</h2>']
    words = _html.preformatted("\n".join(verdict_lines(verdict)[1:]))
    if not verdict.ok and not verdict.unwritten and not verdict.unchecked:
        source = report.sources.get(verdict.function)
        parts += _suspects(spec, verdict, source, verdict.defined_at)
        parts += _pictures(spec, verdict)
        words = f"<h3>The report, in words</h3>{words}"
    parts += [words, "</section>"]
    return "\n".join(p for p in parts if p)


def _suspects(spec, verdict, source, where: str) -> list[str]:
    """Each suspect equation rendered, with the learner's line that computes it; for a loop,
    the loop."""
    parts = []
    if verdict.slip is not None:
        parts.append(
            f"<p><b>slip:</b> {_html.escape(verdict.slip.says)} "
            f'<span class="note">[{_html.escape(verdict.slip.id)}]</span><br>'
            f"<b>fix:</b> <code>{_html.escape(verdict.slip.fix)}</code></p>"
        )
    for number in verdict.suspects:
        if number == "the loop":
            parts.append("<h3>Suspect: the loop over the steps</h3>")
            lines = _loop_lines(source)
        else:
            what = f"eq. {number}" if number.startswith("(") else f"the {number}"
            parts.append(f"<h3>Suspect: {_html.escape(what)}</h3>")
            parts.append(_html.equation(spec.module.EQUATIONS[number], number))
            lines = _lines_computing(source, spec.cell.name, number)
        if source is not None:
            parts.append(_excerpt(source, lines, where, number))
    return parts


def _excerpt(source, marked: list[int], where: str, number: str) -> str:
    first, lines = source
    if not marked:
        shown = lines[: 2 * CONTEXT + 1]
        what = "loops over the steps" if number == "the loop" else (
            f"names what eq. {number} computes" if number.startswith("(") else
            f"names the {number}"
        )  # fmt: skip
        note = f"{where}: no line of yours {what}; your function begins:"
        return _html.code(first, shown, (), note)
    start = max(first, min(marked) - CONTEXT)
    end = min(first + len(lines) - 1, max(marked) + CONTEXT)
    return _html.code(start, lines[start - first : end - first + 1], set(marked),
                      _place(where, marked[0]))  # fmt: skip


def _place(where: str, line: int) -> str:
    """``where`` a function is defined (``file:6``, ``file, code cell 3, line 2``), moved to
    ``line`` of the same file or cell."""
    if ", line " in where:
        return f"{where.rsplit(', line ', 1)[0]}, line {line}"
    return f"{where.rsplit(':', 1)[0]}, line {line}"


def _lines_computing(source, cell: str, number: str) -> list[int]:
    """The lines of the learner's function that compute equation ``number``: those whose
    comment cites it, or that assign what the documents' code names its result (``dc_prev``,
    ``gradients["dc_prev"]``, a dictionary's ``"dc_prev":``)."""
    if source is None:
        return []
    first, lines = source
    digits = number.strip("()")
    cited = re.compile(rf"#.*\beqs?\.?\s*\(?{re.escape(digits)}\)?(?!\d)", re.IGNORECASE)
    found = [first + i for i, line in enumerate(lines) if cited.search(line)]
    names = set(COMPUTED_AS.get(cell, {}).get(number, ()))
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return sorted(set(found))
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for element in ast.walk(target):
                if isinstance(element, ast.Name) and element.id in names:
                    found.append(first + node.lineno - 1)
                elif (isinstance(element, ast.Subscript) and isinstance(element.slice, ast.Constant)
                      and element.slice.value in names):  # fmt: skip
                    found.append(first + node.lineno - 1)
        if isinstance(node, ast.Dict) and not found:
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in names:
                    found.append(first + value.lineno - 1)
    return sorted(set(found))


def _loop_lines(source) -> list[int]:
    """The learner's loop over the steps: its ``for`` line and the calls in it."""
    if source is None:
        return []
    first, lines = source
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))]
    if not loops:
        return []
    loop = loops[0]
    marked = {loop.lineno}
    marked |= {n.lineno for n in ast.walk(loop) if isinstance(n, ast.Call) and isinstance(
        n.func, ast.Name) and n.func.id.endswith(("_cell_backward", "_cell_forward"))}  # fmt: skip
    return sorted(first + n - 1 for n in marked)


def _pictures(spec, verdict) -> list[str]:
    """Each wrong output's error entry by entry (the first few), and a sequence's error step
    by step, the first departing step marked (with the loop run on jaxrnn's cell beside)."""
    parts = [_per_step(spec, verdict)]
    drawn = [verdict.findings[n] for n in verdict.wrong if verdict.findings[n].got is not None]
    for finding in drawn[:SHOWN]:
        worst = finding.where.index if finding.where is not None else None
        caption = f"{finding.name}: the error of each entry against jaxrnn's, on {verdict.case}"
        if finding.where is not None:
            caption += f"; {finding.where}"
        parts.append(_html.figure(pictures.entries(finding.got, finding.want, finding.dims, worst),
                                  caption))  # fmt: skip
    return parts


def _per_step(spec, verdict) -> str:
    """A sequence's ``dx`` (a forward's ``a``) step by step: the learner's, and their loop's
    with jaxrnn's cell function in place of theirs where it was run."""
    name = "dx" if spec.backward else "a"
    finding = verdict.findings.get(name)
    if not spec.sequence or finding is None or finding.got is None:
        return ""
    curves = {f"your {spec.function}": (finding.got, finding.want)}
    swapped = verdict.swapped.get(name)
    if swapped is not None and swapped.got is not None:
        curves[f"your loop with jaxrnn's {spec.uses}"] = (swapped.got, swapped.want)
    caption = f"{name}: the worst error of each time step against jaxrnn's, on {verdict.case}"
    return _html.figure(pictures.steps(curves, verdict.first_wrong_step), caption)


__all__ = ["body", "page"]
