"""A verdict on every exercise a learner's solution defines, and for each wrong one: what is
wrong, where, and why. It knows nothing of files: it calls the learner's functions through a
runner (:mod:`jaxrnn.solution.learner`), the documents' way, with NumPy float64 arrays and
the documents' plain caches, and never traces them.

Every function is called on three problems: the documents' test cell and two random ones
(``n_a != n_x``; ``m = 1``, ``T_x = 1``). A forward's every output and cache field is compared
with jaxrnn's forward; a backward's gradients with ``jax.vjp`` of jaxrnn's forward in float64
and, on the first random problem, central finite differences too
(:func:`jaxrnn.gradcheck.check_backward`). A backward gets the caches of the learner's own
forward where that forward is right, jaxrnn's otherwise. For a wrong function it gives:

* the wrong outputs, each with the equations it depends on, and the **suspects**: equations
  every wrong output depends on and no right one does (``EQUATIONS_OF`` of each cell module);
* **where** (:mod:`jaxrnn.where`): a sequence function's first wrong time step, counted from the
  last step for a backward (where its reverse loop first goes wrong), from the first for a
  forward; for a loop, whether the learner's own cell function is right and, if not, whether
  the loop is right with jaxrnn's cell in its place;
* the **slip**, when the results equal one of :mod:`jaxrnn.slips`' variants to rounding on
  every problem, with its fix;
* for an error the learner's code raised: where in their file, and a hint where one is known.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import jax
import numpy as np

from jaxrnn import autodiff, exercises, lstm, rnn, slips
from jaxrnn.cells import LSTM, RNN
from jaxrnn.gradcheck import check_backward
from jaxrnn.solution.learner import KEPT, LearnerError, Raised
from jaxrnn.tolerances import LEARNER
from jaxrnn.where import Where, locate


@dataclass(frozen=True)
class Spec:
    """What the diagnosis knows of one exercise."""

    number: int
    function: str
    cell: object
    module: object  # rnn or lstm: EQUATIONS, EQUATIONS_OF
    sequence: bool
    backward: bool
    outputs: tuple = ()  # a forward's results, by the documents' names
    uses: str | None = None  # the documents' function a loop calls: its cell function
    forward: str | None = None  # the forward whose caches a backward takes


SPECS = {
    spec.function: spec
    for spec in (
        Spec(1, "rnn_cell_forward", RNN, rnn, False, False, ("a_next", "yt_pred", "cache")),
        Spec(2, "rnn_forward", RNN, rnn, True, False, ("a", "y_pred", "caches"),
             uses="rnn_cell_forward"),
        Spec(3, "lstm_cell_forward", LSTM, lstm, False, False,
             ("a_next", "c_next", "yt_pred", "cache")),
        Spec(4, "lstm_forward", LSTM, lstm, True, False, ("a", "y", "c", "caches"),
             uses="lstm_cell_forward"),
        Spec(5, "rnn_cell_backward", RNN, rnn, False, True, forward="rnn_cell_forward"),
        Spec(6, "rnn_backward", RNN, rnn, True, True, uses="rnn_cell_backward",
             forward="rnn_forward"),
        Spec(7, "lstm_cell_backward", LSTM, lstm, False, True, forward="lstm_cell_forward"),
        Spec(8, "lstm_backward", LSTM, lstm, True, True, uses="lstm_cell_backward",
             forward="lstm_forward"),
    )
}  # fmt: skip
NAMES = tuple(SPECS)

#: the random problems' sizes: n_a != n_x, and the edges m = 1, T_x = 1
SIZES = ({"n_x": 4, "n_a": 3, "n_y": 2, "m": 5, "T_x": 6},
         {"n_x": 2, "n_a": 4, "n_y": 3, "m": 1, "T_x": 1})  # fmt: skip
#: the documents' names of a sequence function's outputs, as the cell's equations name them
_AS_CELL = {"a": "a_next", "c": "c_next", "y": "yt_pred", "y_pred": "yt_pred", "dx": "dxt",
            "da0": "da_prev"}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One set of arguments: the forward's ``inputs`` and, for a backward, the ``cotangents``
    (``da_next``, ``dc_next`` or ``da``)."""

    label: str
    inputs: tuple
    cotangents: tuple = ()


@dataclass(frozen=True)
class Finding:
    """One output (or gradient, or cache field) compared with its reference."""

    name: str
    ok: bool
    error: float = 0.0
    problem: str | None = None
    where: Where | None = None


@dataclass
class Verdict:
    """One exercise's verdict and diagnosis (see the module)."""

    number: int
    function: str
    defined_at: str
    ok: bool = True
    wrong: list = field(default_factory=list)
    right: list = field(default_factory=list)
    findings: dict = field(default_factory=dict)  # name -> the first wrong Finding
    suspects: list = field(default_factory=list)
    first_wrong_step: int | None = None
    steps: int | None = None  # the steps (da's, or x's) of the problem it was found on
    slip: slips.Slip | None = None
    error: Raised | None = None
    error_problem: str | None = None
    hint: str | None = None
    notes: list = field(default_factory=list)
    caches_from: str | None = None
    problem: str | None = None  # the problem the findings come from
    cell_ok: bool | None = None  # a loop's own cell function


# --------------------------------------------------------------------------------- problems


class _Recorded(Exception):
    pass


class _Recorder:
    """Stands in for the documents' API in an exercise's test cell, to read its arguments."""

    def __init__(self, results: int | None = None):
        self.calls, self.results = {}, results

    def __getattr__(self, name):
        def record(*args):
            self.calls[name] = args
            if self.results is None:
                raise _Recorded
            return (None,) * self.results

        return record


@functools.cache
def problems(function: str) -> tuple[Problem, ...]:
    """The documents' test cell of the exercise, then one problem of each of :data:`SIZES`."""
    spec = SPECS[function]
    exercise = exercises.EXERCISES[spec.number - 1]
    api, forward_api = _Recorder(), _Recorder(results=len(spec.cell.state) + 2)
    try:
        if spec.backward:
            exercise.run(api, np.float64, forward_api=forward_api)
        else:
            exercise.run(api, np.float64)
    except _Recorded:
        pass
    if spec.backward:
        (inputs,) = forward_api.calls.values()
        *cotangents, _ = api.calls[function]
    else:
        inputs, cotangents = api.calls[function], ()
    found = [Problem("the documents' test cell", tuple(inputs), tuple(cotangents))]
    rng = np.random.default_rng(spec.number)
    for sizes in SIZES:
        n_x, n_a, n_y, m, T_x = sizes.values()
        draw = lambda *shape: rng.standard_normal(shape)  # noqa: E731
        parameters = spec.cell.random_parameters(rng, n_x, n_a, n_y, np.float64)
        if spec.sequence:
            inputs, cotangents = (draw(n_x, m, T_x), draw(n_a, m), parameters), [draw(n_a, m, T_x)]
        else:
            states = [draw(n_a, m) for _ in spec.cell.state]
            inputs, cotangents = (draw(n_x, m), *states, parameters), [draw(n_a, m) for _ in states]
        label = "random shapes (" + ", ".join(f"{k} = {v}" for k, v in sizes.items()
                                              if spec.sequence or k != "T_x") + ")"  # fmt: skip
        found.append(Problem(label, inputs, tuple(cotangents) if spec.backward else ()))
    return tuple(found)


# ------------------------------------------------------------------------------- references


def _numpy(tree):
    return jax.tree.map(lambda v: np.asarray(v, np.float64), tree)


def documents_form(spec: Spec, outputs):
    """jaxrnn's results as the documents' code returns them: NumPy arrays, plain tuples, the
    caches a list of step tuples."""
    *values, cache = outputs
    if spec.sequence:
        steps, x = cache
        cache = ([tuple(_numpy(tuple(step))) for step in steps], np.asarray(x, np.float64))
    else:
        cache = tuple(_numpy(tuple(cache)))
    return (*_numpy(tuple(values)), cache)


@functools.cache
def reference(function: str, index: int):
    """For problem ``index``: a forward's results, or a backward's ``(gradients, caches)``,
    the caches in the documents' form; by jaxrnn in float64 (gradients by ``jax.vjp``)."""
    spec, problem = SPECS[function], problems(function)[index]
    with jax.enable_x64(True):
        forward = spec.cell.forward if spec.sequence else spec.cell.cell_forward
        outputs = forward(*problem.inputs)
        if not spec.backward:
            return documents_form(spec, outputs)
        twin = (autodiff.backward_twin if spec.sequence else autodiff.cell_backward_twin)(
            spec.cell
        )  # fmt: skip
        gradients = _numpy(twin(*problem.cotangents, outputs[-1]))
        return gradients, documents_form(spec, outputs)[-1]


def gradient_names(spec: Spec) -> list[str]:
    """A backward's gradients, in the documents' order."""
    if spec.sequence:
        return ["dx", "da0", *(f"d{k}" for k in spec.cell.gradient_keys)]
    states = [f"d{s}_prev" for s in spec.cell.state]
    return ["dxt", *states, *(f"d{k}" for k in spec.cell.gradient_keys)]


# ------------------------------------------------------------------------------ comparisons


def compare_array(name: str, got, want, dims: str | None) -> Finding:
    """One array against its reference, at :data:`jaxrnn.tolerances.LEARNER`."""
    if isinstance(got, Mapping) and "__opaque__" in got:
        return Finding(name, False, problem=f"not an array ({got['__opaque__']})")
    try:
        got = np.asarray(got, np.float64)
    except (TypeError, ValueError):
        return Finding(name, False, problem=f"not an array ({type(got).__name__})")
    want = np.asarray(want, np.float64)
    if got.shape != want.shape:
        return Finding(name, False, problem=f"shape {got.shape}, expected {want.shape}")
    scale = float(np.max(np.abs(want), initial=0.0))
    diff = np.abs(got - want)
    bound = LEARNER.atol + LEARNER.rtol * scale
    error = float(np.max(diff, initial=0.0)) / (scale or 1.0)
    if not np.all(np.isfinite(got)):
        return Finding(name, False, np.inf, "not finite", locate(got, want, dims, LEARNER.rtol))
    if np.all(diff <= bound):
        return Finding(name, True, error)
    tolerance = bound / (scale or 1.0)
    return Finding(name, False, error, None, locate(got, want, dims, tolerance))


def compare(spec: Spec, got, want) -> list[Finding]:
    """Every output of one call against jaxrnn's (see :class:`Finding`)."""
    if spec.backward:
        return _compare_gradients(spec, got, want)
    n = len(spec.outputs)
    if not isinstance(got, (tuple, list)) or len(got) != n:
        shown = f"{type(got).__name__}" + (f" of {len(got)}" if hasattr(got, "__len__") else "")
        return [Finding("the result", False, problem=f"returned {shown}; the documents' "
                        f"function returns ({', '.join(spec.outputs)})")]  # fmt: skip
    findings = []
    for name, g, w in zip(spec.outputs[:-1], got[:-1], want[:-1], strict=True):
        dims = ("n_y" if name.startswith("y") else "n_a") + " m" + (" T_x" if spec.sequence else "")
        findings.append(compare_array(name, g, w, dims))
    if spec.sequence:
        return findings + _compare_caches(spec, got[-1], want[-1])
    return findings + _compare_cache(spec, "cache", got[-1], want[-1])


def _cache_names(spec) -> list[str]:
    return [*spec.cell.cache_fields, "parameters"]


def _compare_cache(spec, name, got, want) -> list[Finding]:
    names = _cache_names(spec)
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        shown = type(got).__name__ + (f" of {len(got)}" if hasattr(got, "__len__") else "")
        return [Finding(name, False, problem=f"{shown}; the documents' cache is the "
                        f"{len(names)}-tuple ({', '.join(names)})")]  # fmt: skip
    findings = []
    for i, (field_name, g, w) in enumerate(zip(names, got, want, strict=True)):
        label = f"{name}[{i}] ({field_name})"
        if field_name == "parameters":
            findings += _compare_parameters(spec, f"{name}[{i}]", g, w)
        else:
            findings.append(compare_array(label, g, w, spec.cell.cache_fields[field_name]))
    return findings


def _compare_parameters(spec, label, got, want) -> list[Finding]:
    if not isinstance(got, Mapping):
        return [Finding(label, False, problem=f"{type(got).__name__}, not the parameters")]
    return [
        compare_array(f"{label}['{k}']", got[k], want[k], dims)
        if k in got else Finding(f"{label}['{k}']", False, problem="missing")
        for k, dims in spec.cell.parameter_shapes.items()
    ]  # fmt: skip


def _compare_caches(spec, got, want) -> list[Finding]:
    """``caches = (list of step caches, x)``: each field over the steps, as one finding."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return [Finding("caches", False, problem="not the documents' pair (caches, x)")]
    steps, x = got
    findings = [compare_array("caches[1] (x)", x, want[1], "n_x m T_x")]
    if not isinstance(steps, (tuple, list)) or len(steps) != len(want[0]):
        shown = f"{len(steps)} step caches" if hasattr(steps, "__len__") else type(steps).__name__
        return findings + [Finding("caches[0]", False, problem=f"{shown}; expected one per "
                                   f"step, {len(want[0])}")]  # fmt: skip
    per_step = [_compare_cache(spec, "caches[0][t]", g, w)
                for g, w in zip(steps, want[0], strict=True)]  # fmt: skip
    for i in range(len(per_step[0])):
        column = [step[i] for step in per_step if i < len(step)]
        wrong = [t for t, f in enumerate(column) if not f.ok]
        if not wrong:
            findings.append(column[0])
            continue
        first = column[wrong[0]]
        where = Where(first.where.index if first.where else (), first.error,
                      f"step {wrong[0]}" + (f", {first.where.meaning}" if first.where else ""),
                      (wrong[0], wrong[-1]))  # fmt: skip
        findings.append(Finding(first.name, False, first.error, first.problem, where))
    return findings


def _compare_gradients(spec, got, want) -> list[Finding]:
    if not isinstance(got, Mapping) or "__opaque__" in got:
        shown = got.get("__opaque__") if isinstance(got, Mapping) else type(got).__name__
        return [Finding("the result", False, problem=f"returned {shown}; the documents' "
                        f"function returns a dictionary of gradients")]  # fmt: skip
    return [
        compare_array(name, got[name], want[name], _gradient_dims(spec, name))
        if name in got else Finding(name, False, problem="not returned")
        for name in gradient_names(spec)
    ]  # fmt: skip


def _gradient_dims(spec, name) -> str:
    if name in ("dx", "dxt"):
        return "n_x m T_x" if spec.sequence else "n_x m"
    if name in ("da0", "da_prev", "dc_prev"):
        return "n_a m"
    return spec.cell.parameter_shapes[name[1:]]


# ------------------------------------------------------------------------------- diagnosis


def diagnose(runner, function: str, verdicts: Mapping) -> Verdict:
    """The verdict on the learner's ``function``, given the verdicts of the exercises before it
    (whose forwards a backward may take its caches from)."""
    spec = SPECS[function]
    verdict = Verdict(spec.number, function, runner.loaded.functions[function])
    own_forward = verdicts.get(spec.forward)
    use_theirs = own_forward is not None and own_forward.ok and own_forward.error is None
    verdict.caches_from = None if not spec.backward else ("your" if use_theirs else "jaxrnn's")
    arguments, results = [], []
    for index in range(len(problems(function))):
        try:
            args, given = _arguments(runner, spec, index, use_theirs)
            arguments.append(given)
            results.append(runner.call(function, *args))
        except LearnerError as error:
            results.append(error.raised)
    if any(isinstance(r, Raised) for r in results):
        return _errored(runner, spec, verdict, verdicts, arguments, results)
    findings = [compare(spec, got, _target(spec, i)) for i, got in enumerate(results)]
    if spec.backward:  # the first random problem, also against finite differences
        findings[1] = _with_finite_differences(spec, findings[1], results[1])
    if spec.number == 8:
        _dx_from_da(verdict, findings[0], results[0])
    _aggregate(verdict, findings)
    if spec.number == 8:
        _older_edition(verdict, results[0])
    if verdict.ok:
        return verdict
    _where(spec, verdict, findings)
    loop_results = results
    if spec.uses is not None:
        loop_results = _cell_or_loop(runner, spec, verdict, verdicts, arguments, results)
    if loop_results is not None:
        verdict.slip = _matching_slip(spec, loop_results, arguments)
    if verdict.slip is None and spec.number in (5, 7):
        verdict.slip = _weights_from_outside(runner, spec, arguments[1], results[1])
    return verdict


def _arguments(runner, spec, index, use_theirs) -> tuple[list, list]:
    """The call's arguments for the runner, and as plain data (for the slips' variants)."""
    problem = problems(spec.function)[index]
    if not spec.backward:
        return list(problem.inputs), list(problem.inputs)
    if use_theirs:
        key = f"{spec.forward} {index}"
        outputs = runner.call(spec.forward, *problem.inputs, keep=key)
        kept = {KEPT: key, "index": [-1]}
        return [*problem.cotangents, kept], [*problem.cotangents, outputs[-1]]
    caches = reference(spec.function, index)[1]
    return [*problem.cotangents, caches], [*problem.cotangents, caches]


def _target(spec, index):
    value = reference(spec.function, index)
    return value[0] if spec.backward else value


def _errored(runner, spec, verdict, verdicts, arguments, results) -> Verdict:
    """A function that raised on some problem: where, why if known, and what it got right."""
    labels = [p.label for p in problems(spec.function)]
    index = next(i for i, r in enumerate(results) if isinstance(r, Raised))
    raised = results[index]
    verdict.ok, verdict.error, verdict.error_problem = False, raised, labels[index]
    verdict.hint = _hint(spec, raised, problems(spec.function)[index])
    ran = [i for i, r in enumerate(results) if not isinstance(r, Raised)]
    right = [i for i in ran
             if all(f.ok for f in compare(spec, results[i], _target(spec, i)))]  # fmt: skip
    if right:
        verdict.notes.append("right on " + " and ".join(labels[i] for i in right))
    if spec.uses is not None and raised.frames and raised.frames[-1][2] == spec.uses:
        _loop_of_a_raising_cell(runner, spec, verdict, verdicts, arguments)
    if verdict.slip is None and spec.number in (5, 7) and ran:
        verdict.slip = _weights_from_outside(runner, spec, arguments[ran[0]], results[ran[0]])
    return verdict


def _loop_of_a_raising_cell(runner, spec, verdict, verdicts, arguments) -> None:
    """The error came from the loop's cell function: is that function wrong, or the loop,
    that gave it what it cannot take? The loop again, with jaxrnn's cell function in its place
    checking what it is given (a backward's cache)."""
    cell = verdicts.get(spec.uses)
    if cell is not None and not cell.ok:
        verdict.notes.append(f"it raised in your {spec.uses}, which is wrong: fix exercise "
                             f"{cell.number} first")  # fmt: skip
    stand_in = f"checked {spec.uses}" if spec.backward else spec.uses
    try:
        rerun = [runner.call(spec.function, *given, substitute={spec.uses: stand_in})
                 for given in arguments]  # fmt: skip
    except LearnerError as error:
        if error.raised.kind == "NotAStepCache":
            verdict.slip = next(s for s in slips.for_exercise(spec.number) if s.probe)
            verdict.notes.append(f"{spec.uses}, called by your loop: {error.raised.message}")
        return
    if all(f.ok for i, got in enumerate(rerun) for f in compare(spec, got, _target(spec, i))):
        verdict.notes.append(f"with jaxrnn's {spec.uses} in its place your loop is right")
        return
    verdict.notes.append(f"with jaxrnn's {spec.uses} in its place your loop is still wrong")
    verdict.slip = _matching_slip(spec, rerun, arguments)


def _hint(spec, raised: Raised, problem: Problem) -> str | None:
    """A known cause of an error, where there is one."""
    if raised.kind == "NameError":
        name = raised.message.split("'")[1] if "'" in raised.message else ""
        if name in spec.cell.parameter_shapes:
            where = "the cache's parameters: parameters = cache[-1]; " if spec.backward else ""
            return f"read it from {where or 'the parameters: '}{name} = parameters['{name}']"
    if raised.kind == "IndexError" and spec.sequence and spec.backward and (
        problem.label.startswith("the documents'")
    ):  # fmt: skip
        return ("the documents' test cell gives da 4 of x's 7 steps: loop over da's steps "
                "(n_a, m, T_x = da.shape), as the document's code does")  # fmt: skip
    if raised.kind == "TimeoutError":
        return "a loop that does not end? The documents' loops run over range(T_x)"
    return None


def _with_finite_differences(spec, findings, result) -> list[Finding]:
    """The random problem's gradients also judged by :func:`check_backward` (jax.vjp in float64
    and central finite differences): a gradient it fails is wrong, whatever else said."""
    if not isinstance(result, Mapping) or "__opaque__" in result:
        return findings
    problem = problems(spec.function)[1]
    names = ["x", "a0"] if spec.sequence else ["xt", *(f"{s}_prev" for s in spec.cell.state)]
    inputs = dict(zip([*names, "parameters"], problem.inputs, strict=True))
    forward = spec.cell.forward if spec.sequence else spec.cell.cell_forward
    returned = {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
    with jax.enable_x64(True):
        report = check_backward(forward, lambda *_: returned, inputs, problem.cotangents,
                                finite_differences=True)  # fmt: skip
    failed = set(report.failed)
    fd = "disagrees with finite differences"
    return [
        Finding(f.name, False, f.error, fd) if f.ok and f.name in failed else f for f in findings
    ]


def _dx_from_da(verdict, findings, result) -> None:
    """The 4-of-7 test cell: a ``dx`` sized from ``da``, right on its steps, is accepted."""
    dx = result.get("dx") if isinstance(result, Mapping) else None
    problem = problems("lstm_backward")[0]
    want = reference("lstm_backward", 0)[0]["dx"]
    T_da = problem.cotangents[0].shape[-1]
    if isinstance(dx, np.ndarray) and dx.shape == (*want.shape[:2], T_da):
        finding = compare_array("dx", dx, want[..., :T_da], "n_x m T_x")
        if finding.ok:
            findings[:] = [finding if f.name == "dx" else f for f in findings]
            verdict.notes.append(
                f"on the documents' test cell your dx has da's {T_da} steps, not x's "
                f"{want.shape[-1]}: right on them (jaxrnn sizes dx from x: the later steps get "
                f"no gradient, and are 0)"
            )


def _aggregate(verdict, findings_per_problem) -> None:
    """Wrong on any problem is wrong; the first problem an output is wrong on is the one shown."""
    labels = [p.label for p in problems(verdict.function)]
    for label, findings in zip(labels, findings_per_problem, strict=True):
        for f in findings:
            if not f.ok and f.name not in verdict.findings:
                verdict.findings[f.name] = f
                verdict.problem = verdict.problem or label
    names = list(dict.fromkeys(f.name for fs in findings_per_problem for f in fs))
    verdict.wrong = [n for n in names if n in verdict.findings]
    verdict.right = [n for n in names if n not in verdict.findings]
    verdict.ok = not verdict.wrong


def equations_of(spec, name) -> set:
    """The equations an output depends on, by the cell's ``EQUATIONS_OF``."""
    base = name.split("(")[-1].rstrip(")") if "(" in name else name.split("[")[0]
    return set(spec.module.EQUATIONS_OF.get(_AS_CELL.get(base, base), ()))


def suspects(spec, wrong, right) -> list[str]:
    """Equations every wrong output depends on and no right one does; failing that, those any
    wrong one depends on and no right one does (more than one slip)."""
    passing = set().union(*(equations_of(spec, n) for n in right))
    failing = [equations_of(spec, n) for n in wrong if equations_of(spec, n)]
    if not failing:
        return []
    found = set.intersection(*failing) - passing or set.union(*failing) - passing
    order = list(spec.module.EQUATIONS)
    return sorted(found, key=order.index)


def _where(spec, verdict, findings_per_problem) -> None:
    verdict.suspects = suspects(spec, verdict.wrong, verdict.right)
    verdict.first_wrong_step = verdict.steps = None
    if not spec.sequence:
        return
    # the time step: a backward's dx departs first at its latest wrong step, a forward's a or c
    # at its earliest
    names = ("dx",) if spec.backward else ("a", "c")
    for index, findings in enumerate(findings_per_problem):
        for f in findings:
            if f.name in names and f.where is not None and f.where.steps:
                verdict.first_wrong_step = f.where.steps[1 if spec.backward else 0]
                problem = problems(spec.function)[index]  # the steps da covers, or x's
                verdict.steps = (problem.cotangents or problem.inputs)[0].shape[-1]
                return


def _cell_or_loop(runner, spec, verdict, verdicts, arguments, results):
    """A wrong loop: is its cell function right? If not, the loop again with jaxrnn's cell in
    its place, to tell a loop slip from a cell slip. Returns the results to match the loop's
    slips against, or ``None`` where the loop is right."""
    cell = verdicts.get(spec.uses)
    verdict.cell_ok = None if cell is None else cell.ok
    if cell is not None and cell.ok:
        verdict.notes.append(f"your {spec.uses} (exercise {cell.number}) is right: the "
                             f"mistake is in this loop")  # fmt: skip
        verdict.suspects = ["the loop"]
        return results
    if cell is not None:
        verdict.notes.append(f"your {spec.uses} is wrong: fix exercise {cell.number} first")
    try:
        rerun = [runner.call(spec.function, *given, substitute={spec.uses: spec.uses})
                 for given in arguments]  # fmt: skip
    except LearnerError:
        return None
    findings = [compare(spec, got, _target(spec, i)) for i, got in enumerate(rerun)]
    if all(f.ok for fs in findings for f in fs):
        verdict.notes.append(f"with jaxrnn's {spec.uses} in its place your loop is right: the "
                             f"mistakes are {spec.uses}'s")  # fmt: skip
        if cell is not None:
            verdict.suspects = list(cell.suspects)
        return None
    verdict.notes.append(f"with jaxrnn's {spec.uses} in its place your loop is still wrong")
    _where(spec, verdict, findings)  # the loop's own first wrong step
    verdict.suspects = ["the loop"]
    return rerun


def _matching_slip(spec, results, arguments):
    """The catalogue's slip whose variant gives the learner's results on every problem."""
    for slip in slips.for_exercise(spec.number):
        if slip.run is None:
            continue
        try:
            variants = [slip.run(*args) for args in arguments]
        except Exception:  # noqa: BLE001 - a variant that cannot run here does not match
            continue
        if all(all(f.ok for f in compare(spec, got, want))
               for got, want in zip(results, variants, strict=True)):  # fmt: skip
            return slip
    return None


def _weights_from_outside(runner, spec, arguments, result):
    """The probe: the same cache with other weights; a backward whose ``dxt`` and ``da_prev``
    do not change reads its weights from elsewhere."""
    *cotangents, cache = arguments
    if not isinstance(cache, (tuple, list)) or not isinstance(cache[-1], Mapping):
        return None
    rng = np.random.default_rng(0)
    weights = [k for k in spec.cell.gradient_keys if k.startswith("W")]
    other = {**cache[-1], **{k: rng.standard_normal(np.shape(cache[-1][k])) for k in weights}}
    try:
        changed = runner.call(spec.function, *cotangents, (*cache[:-1], other))
    except LearnerError:
        return None
    same = all(
        isinstance(changed, Mapping) and k in changed and k in result
        and compare_array(k, changed[k], result[k], None).ok
        for k in ("dxt", "da_prev")
    )  # fmt: skip
    return next((s for s in slips.for_exercise(spec.number) if s.probe), None) if same else None


def _older_edition(verdict, result) -> None:
    """lstm_backward's results on the documents' test cell against what an older edition of
    the document printed (computed by the slip "carries-nothing")."""
    if not isinstance(result, Mapping):
        return
    printed = exercises.OLDER_EDITION[8]
    try:
        observed = exercises._gradient_lines(result, [("dx", (1, 2)), ("da0", (2, 3)),
                                                      ("dWf", (3, 1))])  # fmt: skip
    except (KeyError, IndexError, TypeError):
        return
    key = 'gradients["dx"][1][2]'
    observed[key] = np.asarray(observed[key])[:4]
    lines = exercises.compare(observed, printed)
    if all(line.ok for line in lines):
        verdict.notes.append(
            "your results are the Expected Output an older edition of the LSTM document printed "
            "(dx[1][2] = [-0.00173313 0.08287442 -0.30545663 -0.43281115], da0[2][3] = "
            "-0.0959115...): those numbers came from a loop that carries nothing from step t+1 "
            "to step t, and are wrong. This document prints the true gradient: dx[1][2] = "
            "[0.00218254 0.28205375 -0.48292508 -0.43281115 0. 0. 0.], da0[2][3] = 0.3127703..."
        )


def check(runner, names=None, progress=None) -> list[Verdict]:
    """The verdicts on every exercise the runner's solution defines (or those of ``names``),
    in the documents' order; ``progress`` is called with each as it is found."""
    found = runner.loaded.functions
    wanted = [n for n in NAMES if n in found and (names is None or n in names)]
    verdicts = {}
    for name in NAMES:  # an exercise's forward before its backward, a cell before its loop
        if name in found and (name in wanted or _needed(name, wanted)):
            verdicts[name] = diagnose(runner, name, verdicts)
            if progress is not None and name in wanted:
                progress(verdicts[name])
    return [verdicts[n] for n in wanted]


def _needed(name: str, wanted) -> bool:
    """Whether a wanted exercise takes ``name``'s verdict: its forward, or its loop's cell."""
    return any(name in (SPECS[w].forward, SPECS[w].uses) for w in wanted)
