"""``jaxrnn check FILE``: the report on a learner's solution, each exercise's block printed
as it comes (:mod:`jaxrnn.solution`)."""

from __future__ import annotations

import json
import sys

from jaxrnn.cli.report import say


def check_solution(args) -> int:
    """``jaxrnn check FILE...``: the learner's solution, each exercise's block as it comes;
    the files of each folder are one solution (:func:`jaxrnn.solution.solutions`), checked in
    turn. The exit status is the worst of theirs."""
    from jaxrnn import solution
    from jaxrnn.solution._report import verdict_lines

    def show(found):
        if args.json:
            return
        text = found.header() if isinstance(found, solution.Report) else "\n".join(
            verdict_lines(found)
        )  # fmt: skip
        say(text)

    exercises = None if args.exercise is None else [
        int(e) if e.isdigit() else e for e in args.exercise
    ]  # fmt: skip
    reports = []
    for files in solution.solutions(args.files):
        if reports and not args.json:
            say("")
        try:
            report = solution.check(files, exercises=exercises, timeout=args.timeout,
                                    progress=show)  # fmt: skip
        except ValueError as err:  # an exercise that is none of the eight
            print(f"jaxrnn check: {err}", file=sys.stderr)
            return 2
        reports.append(report)
        if args.json:
            continue
        if report.unreadable is not None:
            say(report.header())
        else:
            remaining = report.unchecked_lines()
            say("\n".join([*remaining, "", report.summary()]))
        if args.show_output and report.output:
            say("\nwhat your code printed:\n" + report.output.rstrip())
    status = max(report.exit_status for report in reports)
    if args.html is not None:
        args.html.write_text(page(reports), encoding="utf-8")
        print(f"jaxrnn check: wrote {args.html}", file=sys.stderr)
    if args.json:
        if len(reports) == 1:
            say(reports[0].to_json(output=args.show_output))
        else:
            say(json.dumps({
                "ok": all(r.ok for r in reports), "exit_status": status,
                "solutions": [r.to_dict(output=args.show_output) for r in reports],
            }, indent=2))  # fmt: skip
    return status


def page(reports) -> str:
    """One page for the solutions checked, each its report drawn."""
    from jaxrnn import _html
    from jaxrnn.solution._page import body

    if len(reports) == 1:
        return reports[0].to_html()
    title = "jaxrnn check " + " ".join(f for r in reports for f in r.files)
    return _html.document(title, "\n".join(body(r) for r in reports))


__all__ = ["check_solution", "page"]
