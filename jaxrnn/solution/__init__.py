"""Check a learner's own solution of the documents' exercises: ``jaxrnn check FILE``.

>>> from jaxrnn import solution
>>> report = solution.check({})  # a namespace without any of the documents' functions
>>> report.exit_status, report.summary()
(2, "no function of the documents' names was found: nothing to check")

``check`` takes the solution as a learner has it: the path of a ``.py`` or an ``.ipynb``
(several, when the functions are spread over modules that import each other, or over the two
documents' notebooks), a module, or a namespace (``check(globals())`` in their own running
notebook, where the report shows as rich output). ``jaxrnn check`` checks the files of each
folder as one solution (:func:`solutions`): ``a/solution.py b/solution.py`` are two.

It runs the learner's code, which is what they ask it to do: the files in a process of their
own (:mod:`jaxrnn.solution._runner`), so that nothing the code does can stop the report. Every
exercise found gets a verdict, computed the documents' way, and every wrong one a diagnosis
(:mod:`jaxrnn.solution._diagnose`): what is wrong, the equations to suspect, the time step where
a loop first goes wrong, the named slip and its fix.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Mapping
from types import ModuleType

from jaxrnn.solution import _diagnose as diagnose
from jaxrnn.solution._protocol import NotASolution
from jaxrnn.solution._report import Report
from jaxrnn.solution._runner import InProcess, Worker


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
        timeout: seconds each call into the learner's code may take, above 0 and at most a
            day (:data:`MAX_TIMEOUT`).
        progress: called with the report so far once the solution is read (no verdicts yet),
            then with each exercise's :class:`~jaxrnn.solution._diagnose.Verdict` as it is
            found: ``jaxrnn check`` prints each block as it comes.

    Returns:
        A :class:`~jaxrnn.solution._report.Report`: ``report.ok``, ``report.exit_status``,
        ``print(report)``, ``report.to_json()``.
    """
    names = None if exercises is None else _names(exercises)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
        0 < timeout <= MAX_TIMEOUT
    ):  # fmt: skip
        raise ValueError(f"check: `timeout` must be a number of seconds above 0 and at most "
                         f"{MAX_TIMEOUT:g} (a day); got {timeout!r}")  # fmt: skip
    if isinstance(solution, (Mapping, ModuleType)):
        files = [getattr(solution, "__name__", None) or "the namespace given"]
        runner = InProcess(solution, diagnose.NAMES, timeout=timeout)
    else:
        paths = [solution] if isinstance(solution, (str, os.PathLike)) else list(solution)
        files = [os.fspath(p) for p in paths]
        _one_module_per_name(files)
        why = _unreadable(files)
        if why is not None:
            return Report(files, [], unreadable=why)
        try:
            runner = Worker(files, diagnose.NAMES, timeout=timeout)
        except NotASolution as error:
            return Report(files, [], unreadable=str(error))
    with runner:
        loaded = runner.loaded
        found = [n for n in diagnose.NAMES if n in loaded.functions]
        checking = [n for n in found if names is None or n in names]
        shadowed = {n: [*places, loaded.functions[n]] for n, places in loaded.shadowed.items()}
        report = Report(
            files,
            [],
            found,
            checking,
            loaded.errors,
            unrun=dict(loaded.unrun),
            shadowed=shadowed,
            asked=None if names is None else [n for n in diagnose.NAMES if n in names],
            sources=dict(loaded.sources),
        )
        if progress is not None:
            progress(report)
        report.verdicts = diagnose.verdicts(runner, names, progress)
        report.output = runner.output()
        return report


#: the longest ``timeout`` a call may be given: a day (the timers take no more)
MAX_TIMEOUT = 86400.0


def solutions(files) -> list[list[str]]:
    """The files given to ``jaxrnn check``, as solutions: each folder's files are one (its
    modules may import each other; the two documents' notebooks), in the order given."""
    groups: dict = {}
    for f in files:
        folder = os.path.dirname(os.path.abspath(os.fspath(f)))
        groups.setdefault(folder, []).append(os.fspath(f))
    return list(groups.values())


def _one_module_per_name(files) -> None:
    """Files that would be one module's name cannot be one solution."""
    by_name: dict = {}
    for f in files:
        if f.endswith(".py"):
            by_name.setdefault(pathlib.Path(f).stem, []).append(f)
    clash = next((fs for fs in by_name.values() if len(fs) > 1), None)
    if clash is not None:
        raise ValueError(
            f"check: {' and '.join(clash)} would be one module, {pathlib.Path(clash[0]).stem!r}, "
            f"of one solution: check each on its own (jaxrnn check takes each folder's files "
            f"as a solution of their own)"
        )


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


__all__ = ["MAX_TIMEOUT", "Report", "check", "solutions"]
