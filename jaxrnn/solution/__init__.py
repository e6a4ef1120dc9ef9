"""Check a learner's own solution of the documents' exercises: ``jaxrnn check FILE``.

>>> from jaxrnn import solution
>>> report = solution.check({})  # a namespace without any of the documents' functions
>>> report.exit_status, report.summary()
(2, "no function of the documents' names was found: nothing to check")

``check`` takes the solution as a learner has it: the path of a ``.py`` or an ``.ipynb``
(several, when the functions are spread over modules that import each other), a module, or a
namespace (``check(globals())`` in their own running notebook, where the report shows as
rich output). It runs the learner's code, which is what they ask it to do: the files in a
process of their own (:mod:`jaxrnn.solution.learner`), so that nothing the code does can
stop the report. Every exercise found gets a verdict, computed the documents' way, and every
wrong one a diagnosis (:mod:`jaxrnn.solution.diagnose`): what is wrong, the equations to
suspect, the time step where a loop first goes wrong, the named slip and its fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import ModuleType

from jaxrnn.solution import diagnose
from jaxrnn.solution.learner import InProcess, NotASolution, Worker
from jaxrnn.solution.report import Report


def check(
    solution,
    *,
    exercises=None,
    timeout: float = 10.0,
    progress: Callable | None = None,
) -> Report:
    """The report on a learner's solution.

    Arguments:
        solution: a path (``.py`` or ``.ipynb``) or a list of them, a module, or a namespace
            (a dictionary such as ``globals()``).
        exercises: the exercises to check, by number or name; by default every one found.
        timeout: seconds each call into the learner's code may take.
        progress: called with the report so far once the solution is read (no verdicts yet),
            then with each exercise's :class:`~jaxrnn.solution.diagnose.Verdict` as it is
            found: ``jaxrnn check`` prints each block as it comes.

    Returns:
        A :class:`~jaxrnn.solution.report.Report`: ``report.ok``, ``report.exit_status``,
        ``print(report)``, ``report.to_json()``.
    """
    names = None if exercises is None else _names(exercises)
    if isinstance(solution, (Mapping, ModuleType)):
        files = [getattr(solution, "__name__", None) or "the namespace given"]
        runner = InProcess(solution, diagnose.NAMES, timeout=timeout)
    else:
        paths = [solution] if isinstance(solution, (str, os.PathLike)) else list(solution)
        files = [os.fspath(p) for p in paths]
        problem = _unreadable(files)
        if problem is not None:
            return Report(files, [], unreadable=problem)
        try:
            runner = Worker(files, diagnose.NAMES, timeout=timeout)
        except NotASolution as error:
            return Report(files, [], unreadable=str(error))
    with runner:
        found = [n for n in diagnose.NAMES if n in runner.loaded.functions]
        checking = [n for n in found if names is None or n in names]
        report = Report(files, [], found, checking, runner.loaded.problems)
        if progress is not None:
            progress(report)
        report.verdicts = diagnose.check(runner, names, progress)
        report.output = runner.output()
        return report


def _names(exercises) -> set:
    chosen = set()
    for e in [exercises] if isinstance(exercises, (int, str)) else exercises:
        by_number = {s.number: name for name, s in diagnose.SPECS.items()}
        name = by_number.get(e, e) if isinstance(e, int) else e
        if name not in diagnose.SPECS:
            raise ValueError(
                f"check: `exercises` holds {e!r}; the exercises are 1-8 or "
                f"{', '.join(diagnose.SPECS)}"
            )
        chosen.add(name)
    return chosen


def _unreadable(files) -> str | None:
    """Why the files cannot be a solution, before any runs: missing, or not .py/.ipynb."""
    if not files:
        return "no file given"
    for f in files:
        if not os.path.isfile(f):
            return f"{f}: no such file"
        if not f.endswith((".py", ".ipynb")):
            return f"{f}: a solution is a .py module or an .ipynb notebook"
    return None


__all__ = ["Report", "check"]
