"""A verdict on every exercise a learner's solution defines, and for each wrong one: what is
wrong, where, and why. It knows nothing of files: it calls the learner's functions through a
runner (:mod:`jaxrnn.solution._runner`), the documents' way, with NumPy float64 arrays and
the documents' plain caches, and never traces them.

Every function is called on three cases: the documents' test cell and two random ones
(``n_a != n_x``; ``m = 1``, ``T_x = 1``). What it returns is read as the documents' results
whatever it is (:func:`learner_array`): ``None`` (a function still the template is *not
written yet*), a list, a complex or object array, a dictionary without a key are each said
so, never an error of jaxrnn's; a ``dx`` sized from ``da`` (the template's own) is compared
on ``da``'s steps. A forward's every output and cache field is compared with jaxrnn's
forward; a backward's gradients with ``jax.vjp`` of jaxrnn's forward in float64 and, on the
first random case, central finite differences too (:func:`jaxrnn.gradcheck.check_backward`).
A result returned in float32 is right when it is right to float32's rounding, and said so;
rounding never makes an equation a suspect. A backward gets the caches of the learner's own
forward where that forward is right, jaxrnn's otherwise. For a wrong function it gives:

* the wrong outputs, each with the equations it depends on, and the **suspects**: equations
  every wrong output depends on and no right one does (``EQUATIONS_OF`` of each cell module);
* **where** (:mod:`jaxrnn.gradcheck.where`): a sequence function's first wrong time step, counted
from the
  last step for a backward (where its reverse loop first goes wrong), from the first for a
  forward; for a loop, whether the learner's own cell function is right and, if not, what the
  loop does with jaxrnn's cell in its place (said as such);
* the **slip**, when the results equal one of :mod:`jaxrnn.course.slips`' variants to rounding on
  every case, with its fix; a slip seen by behaviour (a probe) only where its definition
  holds;
* for an error the learner's code raised: where in their file, and a hint where one is known.

Nothing in the diagnosis can end the report: a step of it that fails is said so, and the
verdict stands (:func:`check`).
"""

from __future__ import annotations

import functools
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import jax
import numpy as np

from jaxrnn import autodiff
from jaxrnn.cells import LSTM, RNN, lstm, rnn
from jaxrnn.course import exercises, slips
from jaxrnn.gradcheck import check_backward
from jaxrnn.gradcheck.tolerances import DOCUMENT, LEARNER
from jaxrnn.gradcheck.where import Where, locate
from jaxrnn.solution._protocol import KEPT, LearnerError, NotSwapped, Raised


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

#: the random cases' sizes: n_a != n_x, and the edges m = 1, T_x = 1
SIZES = ({"n_x": 4, "n_a": 3, "n_y": 2, "m": 5, "T_x": 6},
         {"n_x": 2, "n_a": 4, "n_y": 3, "m": 1, "T_x": 1})  # fmt: skip
#: the documents' names of a sequence function's outputs, as the cell's equations name them
_AS_CELL = {"a": "a_next", "c": "c_next", "y": "yt_pred", "y_pred": "yt_pred", "dx": "dxt",
            "da0": "da_prev"}  # fmt: skip
#: the dtypes a learner's result may be rounded to, with the tolerance of that rounding
_ROUNDED = {np.dtype(d): DOCUMENT[np.dtype(d)] for d in ("float32", "float16")}


@dataclass(frozen=True)
class Case:
    """One set of arguments: the forward's ``inputs`` and, for a backward, the ``cotangents``
    (``da_next``, ``dc_next`` or ``da``)."""

    label: str
    inputs: tuple
    cotangents: tuple = ()


@dataclass(frozen=True)
class Finding:
    """One output (or gradient, or cache field) compared with its reference.

    Attributes:
        name: the output's name (``"dx"``, ``"caches[0][t] (c_prev)"``).
        ok: whether it is right.
        error: ``max |got - want| / max |want|``.
        fault: why it could not be compared as an array (``"None"``, a shape), or ``None``.
        where: where it is worst, for a wrong array.
        note: for a right one, what was allowed (a scalar 0 in a cache).
        rounded: for a right one, the dtype it was returned in, right to its rounding.
        rounding: wrong by no more than float32's rounding: no equation is suspected for it.
        none: the learner returned ``None`` for it (the template's placeholder).
        got, want, dims: for an array of the reference's shape, the learner's values and
            jaxrnn's in float64, and its axes' names (``"n_x m T_x"``): what the page draws.
    """

    name: str
    ok: bool
    error: float = 0.0
    fault: str | None = None
    where: Where | None = None
    note: str | None = None
    rounded: str | None = None
    rounding: bool = False
    none: bool = False
    got: np.ndarray | None = field(default=None, repr=False, compare=False)
    want: np.ndarray | None = field(default=None, repr=False, compare=False)
    dims: str | None = None


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
    steps: int | None = None  # the steps (da's, or x's) of the case it was found on
    slip: slips.Slip | None = None
    error: Raised | None = None
    error_case: str | None = None
    hint: str | None = None
    notes: list = field(default_factory=list)
    caches_from: str | None = None
    case: str | None = None  # the case the findings come from
    cell_ok: bool | None = None  # a loop's own cell function
    #: the outputs a function still the template returns as None (it is *not written yet*)
    unwritten: list = field(default_factory=list)
    #: a loop's first wrong step with jaxrnn's cell function in its place (never its own),
    #: and the steps of the case it was found on
    swapped_step: tuple[int, int] | None = None
    #: why jaxrnn could not check it at all (a failure of jaxrnn's, said as one)
    unchecked: str | None = None
    #: a loop's outputs with jaxrnn's cell function in place of its own, on the case of
    #: ``findings``, by name: what the page draws beside the learner's
    swapped: dict = field(default_factory=dict)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


# ------------------------------------------------------------------------------------ cases


@functools.cache
def cases(function: str) -> tuple[Case, ...]:
    """The documents' test cell of the exercise, then one case of each of :data:`SIZES`."""
    spec = SPECS[function]
    inputs, cotangents = exercises.EXERCISES[spec.number - 1].inputs(np.float64)
    found = [Case("the documents' test cell", inputs, cotangents)]
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
        found.append(Case(label, inputs, tuple(cotangents) if spec.backward else ()))
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
def expected(function: str, index: int):
    """For case ``index``: a forward's results, or a backward's ``(gradients, caches)``,
    the caches in the documents' form; by jaxrnn in float64 (gradients by ``jax.vjp``)."""
    spec, case = SPECS[function], cases(function)[index]
    with jax.enable_x64(True):
        forward = spec.cell.forward if spec.sequence else spec.cell.cell_forward
        outputs = forward(*case.inputs)
        if not spec.backward:
            return documents_form(spec, outputs)
        twin = (autodiff.backward_twin if spec.sequence else autodiff.cell_backward_twin)(
            spec.cell
        )  # fmt: skip
        gradients = _numpy(twin(*case.cotangents, outputs[-1]))
        return gradients, documents_form(spec, outputs)[-1]


def gradient_names(spec: Spec) -> list[str]:
    """A backward's gradients, in the documents' order."""
    if spec.sequence:
        return ["dx", "da0", *(f"d{k}" for k in spec.cell.gradient_keys)]
    states = [f"d{s}_prev" for s in spec.cell.state]
    return ["dxt", *states, *(f"d{k}" for k in spec.cell.gradient_keys)]


# ------------------------------------------------------------------------------ comparisons


def learner_array(value) -> tuple[np.ndarray | None, str | None]:
    """A learner's value as an array of real numbers, ``(array, None)``, or ``(None, what it
    is instead)``: ``None``, a string, a dictionary, complex values, Python objects, a ragged
    list. Lists of numbers are arrays, as NumPy reads them."""
    if value is None:
        return None, "None: not computed (the template's placeholder?)"
    if isinstance(value, Mapping):
        if "__opaque__" in value:
            return None, f"not an array ({value['__opaque__']})"
        return None, "a dictionary, not an array"
    if isinstance(value, (str, bytes)):
        return None, f"a string ({value[:20]!r}), not an array"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            array = np.asarray(value)
    except (ValueError, TypeError):
        return None, f"a {type(value).__name__} that is not an array of numbers (ragged?)"
    kind = array.dtype.kind
    if kind == "c":
        return None, f"complex values ({array.dtype}): the documents' results are real"
    if kind == "O":
        return None, "an array of Python objects (dtype object), not of numbers"
    if kind in "US":
        return None, f"an array of strings ({array.dtype}), not of numbers"
    if kind not in "fiu":
        return None, f"not numbers (dtype {array.dtype})"
    return array, None


def compare_array(name: str, got, want, dims: str | None, field: bool = False) -> Finding:
    """One array against its reference, at :data:`jaxrnn.gradcheck.tolerances.LEARNER`; a result
    returned in float32 (or float16) at its rounding's tolerance, said in the finding's note.
    ``field``: a cache field, where a scalar that every entry of the reference equals (``c_next
    = 0`` before the loop) computes the same values and is right, with a note."""
    array, what = learner_array(got)
    if array is None:
        return Finding(name, False, fault=what, none=got is None)
    want = np.asarray(want, np.float64)
    if array.shape != want.shape:
        if field and array.ndim == 0 and want.size and np.all(want == array):
            return Finding(name, True, note=(
                f"{name} is the scalar {array.item()!r} where the documents hold an array of "
                f"it: the same values, and the documents' backward takes it"
            ))  # fmt: skip
        return Finding(name, False, fault=f"shape {array.shape}, expected {want.shape}")
    values = array.astype(np.float64)
    scale = float(np.max(np.abs(want), initial=0.0))
    diff = np.abs(values - want)
    error = float(np.max(diff, initial=0.0)) / (scale or 1.0)
    arrays = {"got": values, "want": want, "dims": dims}
    if not np.all(np.isfinite(values)):
        where = locate(values, want, dims, LEARNER.rtol)
        return Finding(name, False, np.inf, "not finite", where, **arrays)
    if np.all(diff <= LEARNER.atol + LEARNER.rtol * scale):
        return Finding(name, True, error, **arrays)
    rounded = _ROUNDED.get(array.dtype)
    if rounded is not None and np.all(diff <= rounded.atol + rounded.rtol * scale):
        return Finding(name, True, error, rounded=array.dtype.name, **arrays)
    float32 = _ROUNDED[np.dtype("float32")]
    rounding = bool(np.all(diff <= float32.atol + float32.rtol * scale))
    bound = (LEARNER.atol + LEARNER.rtol * scale) / (scale or 1.0)
    where = locate(values, want, dims, bound)
    return Finding(name, False, error, None, where, rounding=rounding, **arrays)


def compare(spec: Spec, got, want, scalars: bool = False) -> list[Finding]:
    """Every output of one call against jaxrnn's (see :class:`Finding`); ``scalars``: a
    scalar stands for an array all of whose entries it equals everywhere (a loop's ``dWf = 0``
    that no step added to), not only in a cache."""
    if spec.backward:
        return _compare_gradients(spec, got, want, scalars)
    n = len(spec.outputs)
    if not isinstance(got, (tuple, list)) or len(got) != n:
        return [Finding("the result", False, none=got is None, fault=(
            f"returned {_described(got)}; the documents' function returns "
            f"({', '.join(spec.outputs)})"
        ))]  # fmt: skip
    findings = []
    for name, g, w in zip(spec.outputs[:-1], got[:-1], want[:-1], strict=True):
        dims = ("n_y" if name.startswith("y") else "n_a") + " m" + (" T_x" if spec.sequence else "")
        findings.append(compare_array(name, g, w, dims, field=scalars))
    if spec.sequence:
        return findings + _compare_caches(spec, got[-1], want[-1])
    return findings + _compare_cache(spec, "cache", got[-1], want[-1])


def _described(value) -> str:
    """What a value is, in a few words: ``None``, ``tuple of 2``, ``str``."""
    if value is None:
        return "None"
    if isinstance(value, Mapping) and "__opaque__" in value:
        return str(value["__opaque__"])
    shown = type(value).__name__
    return shown + (f" of {len(value)}" if isinstance(value, (tuple, list, dict)) else "")


def _cache_names(spec) -> list[str]:
    return [*spec.cell.cache_fields, "parameters"]


def _compare_cache(spec, name, got, want) -> list[Finding]:
    names = _cache_names(spec)
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        return [Finding(name, False, fault=f"{_described(got)}; the documents' cache is the "
                        f"{len(names)}-tuple ({', '.join(names)})")]  # fmt: skip
    findings = []
    for i, (field_name, g, w) in enumerate(zip(names, got, want, strict=True)):
        label = f"{name}[{i}] ({field_name})"
        if field_name == "parameters":
            findings += _compare_parameters(spec, f"{name}[{i}]", g, w)
        else:
            findings.append(
                compare_array(label, g, w, spec.cell.cache_fields[field_name], field=True)
            )
    return findings


def _compare_parameters(spec, label, got, want) -> list[Finding]:
    if not isinstance(got, Mapping) or "__opaque__" in got:
        return [Finding(label, False, fault=f"{_described(got)}, not the parameters")]
    return [
        compare_array(f"{label}['{k}']", got[k], want[k], dims)
        if k in got else Finding(f"{label}['{k}']", False, fault="missing")
        for k, dims in spec.cell.parameter_shapes.items()
    ]  # fmt: skip


def _compare_caches(spec, got, want) -> list[Finding]:
    """``caches = (list of step caches, x)``: each field over the steps, as one finding."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return [Finding("caches", False, fault="not the documents' pair (caches, x)")]
    steps, x = got
    findings = [compare_array("caches[1] (x)", x, want[1], "n_x m T_x")]
    if not isinstance(steps, (tuple, list)) or len(steps) != len(want[0]):
        shown = f"{len(steps)} step caches" if isinstance(steps, (tuple, list)) else (
            _described(steps)
        )  # fmt: skip
        return findings + [Finding("caches[0]", False, fault=f"{shown}; expected one per "
                                   f"step, {len(want[0])}")]  # fmt: skip
    per_step = [_compare_cache(spec, "caches[0][t]", g, w)
                for g, w in zip(steps, want[0], strict=True)]  # fmt: skip
    for i in range(len(per_step[0]) if per_step else 0):
        column = [step[i] for step in per_step if i < len(step)]
        wrong = [t for t, f in enumerate(column) if not f.ok]
        if not wrong:
            noted = next((f for f in column if f.note), column[0])
            findings.append(noted)
            continue
        first = column[wrong[0]]
        where = Where(first.where.index if first.where else (), first.error,
                      f"step {wrong[0]}" + (f", {first.where.meaning}" if first.where else ""),
                      (wrong[0], wrong[-1]))  # fmt: skip
        findings.append(Finding(first.name, False, first.error, first.fault, where,
                                rounding=all(column[t].rounding for t in wrong)))  # fmt: skip
    return findings


def _compare_gradients(spec, got, want, scalars=False) -> list[Finding]:
    if not isinstance(got, Mapping) or "__opaque__" in got:
        return [Finding("the result", False, none=got is None, fault=(
            f"returned {_described(got)}; the documents' function returns a dictionary of "
            f"gradients"
        ))]  # fmt: skip
    return [
        compare_array(name, got[name], want[name], _gradient_dims(spec, name), field=scalars)
        if name in got else Finding(name, False, fault="not returned")
        for name in gradient_names(spec)
    ]  # fmt: skip


def _gradient_dims(spec, name) -> str:
    if name in ("dx", "dxt"):
        return "n_x m T_x" if spec.sequence else "n_x m"
    if name in ("da0", "da_prev", "dc_prev"):
        return "n_a m"
    return spec.cell.parameter_shapes[name[1:]]


def _as_documents(spec, index, result):
    """The learner's result read in the documents' shapes: a sequence backward's ``dx`` sized
    from ``da`` (the template's own), where ``da`` covers fewer steps than ``x``, padded with
    zeros to ``x``'s steps, which get no gradient. ``(result, note or None)``."""
    case = cases(spec.function)[index]
    if not (spec.sequence and spec.backward and isinstance(result, Mapping)):
        return result, None
    array, _ = learner_array(result.get("dx"))
    x_shape, T_da = case.inputs[0].shape, case.cotangents[0].shape[-1]
    if array is None or T_da == x_shape[-1] or array.shape != (*x_shape[:2], T_da):
        return result, None
    padded = np.zeros(x_shape, array.dtype)
    padded[..., :T_da] = array
    note = (
        f"on {case.label} your dx has da's {T_da} steps, not x's {x_shape[-1]}: compared on "
        f"them (jaxrnn sizes dx from x: the later steps get no gradient, and are 0)"
    )
    return {**result, "dx": padded}, note


def _unwritten(spec, result) -> list[str]:
    """The outputs a function still the template returns as ``None``: all of them, or none
    (a function that computes some and not others is wrong, not unwritten)."""
    if result is None:
        return ["its result"]
    if spec.backward:
        if not isinstance(result, Mapping) or "__opaque__" in result:
            return []
        names = [n for n in gradient_names(spec) if n in result]
        return names if names and all(result[n] is None for n in names) else []
    if not isinstance(result, (tuple, list)) or len(result) != len(spec.outputs):
        return []
    names = list(spec.outputs[:-1])
    return names if all(v is None for v in result[:-1]) else []


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
    for index in range(len(cases(function))):
        try:
            args, given = _arguments(runner, spec, index, use_theirs)
        except LearnerError as error:  # their forward, for the caches
            arguments.append(None)
            results.append(error.raised)
            continue
        arguments.append(given)
        try:
            result, note = _as_documents(spec, index, runner.call(function, *args))
        except LearnerError as error:
            results.append(error.raised)
            continue
        results.append(result)
        if note is not None:
            verdict.note(note)
    if any(isinstance(r, Raised) for r in results):
        return _errored(runner, spec, verdict, verdicts, arguments, results)
    unwritten = [_unwritten(spec, r) for r in results]
    if all(unwritten):
        verdict.ok, verdict.unwritten = False, unwritten[0]
        return verdict
    findings = [compare(spec, got, _target(spec, i)) for i, got in enumerate(results)]
    extra = [k for k in results[0] if k not in gradient_names(spec)] if (
        spec.backward and isinstance(results[0], Mapping) and "__opaque__" not in results[0]
    ) else []  # fmt: skip
    if extra:
        verdict.note(f"it also returns {', '.join(map(repr, extra))}, which the documents' "
                     f"function does not: left alone")  # fmt: skip
    if spec.backward:  # the first random case, also against finite differences
        findings[1] = _with_finite_differences(spec, findings[1], results[1])
    _aggregate(verdict, findings)
    _guarded(verdict, _older_edition, spec, verdict, results[0])
    if verdict.ok:
        return verdict
    _where(spec, verdict, findings)
    loop_results = results
    if spec.uses is not None:
        loop_results = _guarded(
            verdict, _cell_or_loop, runner, spec, verdict, verdicts, arguments, results
        )
    if loop_results is not None:
        verdict.slip = _guarded(verdict, _matching_slip, spec, loop_results, arguments)
    if verdict.slip is not None and verdict.slip.equation == "the loop":
        verdict.suspects = ["the loop"]
    right_on_test_cell = all(f.ok for f in findings[0])
    if verdict.slip is None and right_on_test_cell:
        verdict.slip = _guarded(verdict, _weights_from_outside, runner, spec, arguments[1],
                                results[1])  # fmt: skip
    return verdict


def _guarded(verdict, step, *args):
    """One step of the diagnosis, whose failure (jaxrnn's, not the learner's) is said in a
    note and leaves the verdict as it stands; ``None`` then."""
    try:
        return step(*args)
    except Exception as error:  # noqa: BLE001 - never the end of the report
        verdict.note(f"jaxrnn's diagnosis could not finish ({_jaxrnn_failure(error)}); the "
                     f"verdict above stands")  # fmt: skip
        return None


def _jaxrnn_failure(error: BaseException) -> str:
    """A failure of jaxrnn's own code, said with where it happened, for a report of it."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename.split('jaxrnn')[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def _arguments(runner, spec, index, use_theirs) -> tuple[list, list]:
    """The call's arguments for the runner, and as plain data (for the slips' variants)."""
    case = cases(spec.function)[index]
    if not spec.backward:
        return list(case.inputs), list(case.inputs)
    if use_theirs:
        key = f"{spec.forward} {index}"
        outputs = runner.call(spec.forward, *case.inputs, keep=key)
        kept = {KEPT: key, "index": [-1]}
        return [*case.cotangents, kept], [*case.cotangents, outputs[-1]]
    caches = expected(spec.function, index)[1]
    return [*case.cotangents, caches], [*case.cotangents, caches]


def _target(spec, index):
    value = expected(spec.function, index)
    return value[0] if spec.backward else value


def _errored(runner, spec, verdict, verdicts, arguments, results) -> Verdict:
    """A function that raised on some case: where, why if known, and what it got right."""
    labels = [p.label for p in cases(spec.function)]
    index = next(i for i, r in enumerate(results) if isinstance(r, Raised))
    raised = results[index]
    verdict.ok, verdict.error, verdict.error_case = False, raised, labels[index]
    verdict.hint = _hint(spec, raised, cases(spec.function)[index])
    ran = [i for i, r in enumerate(results) if not isinstance(r, Raised)]
    right = [i for i in ran
             if all(f.ok for f in compare(spec, results[i], _target(spec, i)))]  # fmt: skip
    if right:
        verdict.note("right on " + " and ".join(labels[i] for i in right))
    if spec.uses is not None and raised.frames and raised.frames[-1][2] == spec.uses:
        _guarded(verdict, _loop_of_a_raising_cell, runner, spec, verdict, verdicts, arguments)
    if verdict.slip is None and 0 in right:  # right on the documents' test cell
        probed = [i for i in ran if arguments[i] is not None]
        verdict.slip = _guarded(verdict, _weights_from_outside, runner, spec,
                                arguments[probed[-1]], results[probed[-1]])  # fmt: skip
    return verdict


def _swapped_call(runner, spec, given):
    """The learner's loop called with jaxrnn's NumPy cell function in place of theirs."""
    return runner.call(spec.function, *given, substitute={spec.uses: spec.uses})


def _loop_of_a_raising_cell(runner, spec, verdict, verdicts, arguments) -> None:
    """The error came from the loop's cell function: is that function wrong, or the loop,
    that gave it what it cannot take? The loop again, with jaxrnn's cell function in its place,
    which says what it is given when that is not one step's cache."""
    cell = verdicts.get(spec.uses)
    if cell is not None and not cell.ok:
        verdict.note(f"it raised in your {spec.uses}, which is wrong: fix exercise {cell.number} "
                     f"first")  # fmt: skip
    if any(given is None for given in arguments):
        return
    try:
        rerun = [_swapped_call(runner, spec, given) for given in arguments]
    except NotSwapped as error:
        verdict.note(f"jaxrnn's {spec.uses} could not be put in place of yours: {error}")
        return
    except LearnerError as error:
        if error.raised.kind == "NotAStepCache":
            verdict.slip = next(s for s in slips.for_exercise(spec.number) if s.probe)
            verdict.note(f"{spec.uses}, called by your loop: {error.raised.message}")
        else:
            verdict.note(f"with jaxrnn's {spec.uses} in its place your loop raises too: "
                         f"{error.raised}")  # fmt: skip
        return
    _swapped_verdict(spec, verdict, rerun, arguments)


def _swapped_verdict(spec, verdict, rerun, arguments) -> None:
    """What the loop does with jaxrnn's cell function in its place, said as such: right, or
    wrong with the slip and the step it shows there; with neither, only that the cell comes
    first."""
    findings = [compare(spec, _as_documents(spec, i, got)[0], _target(spec, i))
                for i, got in enumerate(rerun)]  # fmt: skip
    _keep_swapped(verdict, findings)
    swapped = f"with jaxrnn's {spec.uses} in its place"
    if all(f.ok for fs in findings for f in fs):
        verdict.note(f"{swapped} your loop is right: the mistakes are {spec.uses}'s")
        return
    verdict.slip = _matching_slip(spec, [_as_documents(spec, i, r)[0] for i, r in
                                         enumerate(rerun)], arguments)  # fmt: skip
    step, steps = _first_wrong_step(spec, findings)
    verdict.swapped_step = None if step is None else (step, steps)
    if verdict.slip is None and verdict.swapped_step is None:
        verdict.note(f"{swapped} your loop is still wrong: fix your {spec.uses} first, then "
                     f"check again")  # fmt: skip
    else:
        verdict.note(f"{swapped} your loop is still wrong")
    verdict.suspects = ["the loop"]


def _keep_swapped(verdict, findings_per_case) -> None:
    """The swapped loop's findings on the case the learner's own are shown from."""
    labels = [c.label for c in cases(verdict.function)]
    if verdict.case in labels:
        verdict.swapped = {f.name: f for f in findings_per_case[labels.index(verdict.case)]}


def _hint(spec, raised: Raised, case: Case) -> str | None:
    """A known cause of an error, where there is one."""
    if raised.kind == "NameError":
        name = raised.message.split("'")[1] if "'" in raised.message else ""
        if name in spec.cell.parameter_shapes:
            where = "the cache's parameters: parameters = cache[-1]; " if spec.backward else ""
            return f"read it from {where or 'the parameters: '}{name} = parameters['{name}']"
    if "NoneType" in raised.message:
        return ("a value here is None: a placeholder of the template still to be written "
                "(between ### START CODE HERE ### and ### END CODE HERE ###)?")  # fmt: skip
    if raised.kind == "IndexError" and spec.sequence and spec.backward and (
        case.label.startswith("the documents'")
    ):  # fmt: skip
        return ("the documents' test cell gives da 4 of x's 7 steps: loop over da's steps "
                "(n_a, m, T_x = da.shape), as the document's code does")  # fmt: skip
    if raised.kind == "TimeoutError":
        return "a loop that does not end? The documents' loops run over range(T_x)"
    return None


def _with_finite_differences(spec, findings, result) -> list[Finding]:
    """The random case's gradients also judged by central finite differences of jaxrnn's
    forward in float64 (:func:`check_backward`): a gradient right to float64's tolerance that
    they fail is wrong, whatever else said."""
    if not isinstance(result, Mapping) or "__opaque__" in result:
        return findings
    case = cases(spec.function)[1]
    names = ["x", "a0"] if spec.sequence else ["xt", *(f"{s}_prev" for s in spec.cell.state)]
    inputs = dict(zip([*names, "parameters"], case.inputs, strict=True))
    forward = spec.cell.forward if spec.sequence else spec.cell.cell_forward
    judged = {f.name for f in findings if f.ok and f.note is None}
    returned = {k: learner_array(result[k])[0].astype(np.float64) for k in judged}
    with jax.enable_x64(True):
        report = check_backward(forward, lambda *_: returned, inputs, case.cotangents,
                                finite_differences=True, adjoint=False)  # fmt: skip
    failed = {r.name for r in report.rows if r["fd"] is not None and not r["fd"].ok}
    fd = "disagrees with finite differences"
    return [
        Finding(f.name, False, f.error, fd) if f.ok and f.name in failed else f for f in findings
    ]


def _aggregate(verdict, findings_per_problem) -> None:
    """Wrong on any case is wrong; the first case an output is wrong on is the one
    shown; what was allowed of a right one is noted."""
    labels = [p.label for p in cases(verdict.function)]
    for label, findings in zip(labels, findings_per_problem, strict=True):
        for f in findings:
            if not f.ok and f.name not in verdict.findings:
                verdict.findings[f.name] = f
                verdict.case = verdict.case or label
    names = list(dict.fromkeys(f.name for fs in findings_per_problem for f in fs))
    verdict.wrong = [n for n in names if n in verdict.findings]
    verdict.right = [n for n in names if n not in verdict.findings]
    verdict.ok = not verdict.wrong
    rounded = {}
    for findings in findings_per_problem:
        for f in findings:
            if f.ok and f.note:
                verdict.note(f.note)
            if f.ok and f.rounded:
                rounded[f.rounded] = max(rounded.get(f.rounded, 0.0), f.error)
    for dtype, error in rounded.items():
        verdict.note(f"computed in {dtype}: right to {dtype}'s rounding (off by up to {error:.1e} "
                     f"of the largest entry; float64, as the documents compute, is checked to "
                     f"1e-10)")  # fmt: skip


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


def _first_wrong_step(spec, findings_per_problem) -> tuple[int | None, int | None]:
    """``(first wrong step, the case's steps)``: a backward's dx departs first at its
    latest wrong step, a forward's a or c at its earliest; ``(None, None)`` without one."""
    if not spec.sequence:
        return None, None
    names = ("dx",) if spec.backward else ("a", "c")
    for index, findings in enumerate(findings_per_problem):
        for f in findings:
            if f.name in names and f.where is not None and f.where.steps:
                case = cases(spec.function)[index]  # the steps da covers, or x's
                steps = (case.cotangents or case.inputs)[0].shape[-1]
                return f.where.steps[1 if spec.backward else 0], steps
    return None, None


def _where(spec, verdict, findings_per_problem) -> None:
    """The suspects, from the wrong outputs that rounding does not explain, and the step."""
    wrong = [n for n in verdict.wrong if not verdict.findings[n].rounding]
    verdict.suspects = suspects(spec, wrong, verdict.right) if wrong else []
    verdict.first_wrong_step, verdict.steps = _first_wrong_step(spec, findings_per_problem)
    if not wrong:
        verdict.note("off by no more than float32's rounding makes: not a wrong equation; does "
                     "your code compute in float32 (np.float32, astype) somewhere?")  # fmt: skip


def _cell_or_loop(runner, spec, verdict, verdicts, arguments, results):
    """A wrong loop: is its cell function right? If not, the loop again with jaxrnn's cell in
    its place, to tell a loop slip from a cell slip. Returns the results to match the loop's
    slips against, or ``None`` where the loop is right."""
    cell = verdicts.get(spec.uses)
    verdict.cell_ok = None if cell is None else cell.ok
    if cell is not None and cell.ok:
        verdict.note(f"your {spec.uses} (exercise {cell.number}) is right: the mistake is in "
                     f"this loop")  # fmt: skip
        verdict.suspects = ["the loop"]
        return results
    if cell is not None:
        verdict.note(f"your {spec.uses} is wrong: fix exercise {cell.number} first")
    if any(given is None for given in arguments):
        return None
    try:
        rerun = [_swapped_call(runner, spec, given) for given in arguments]
    except NotSwapped as error:
        verdict.note(f"jaxrnn's {spec.uses} could not be put in place of yours: {error}")
        return results
    except LearnerError:
        return None
    rerun = [_as_documents(spec, i, r)[0] for i, r in enumerate(rerun)]
    findings = [compare(spec, got, _target(spec, i)) for i, got in enumerate(rerun)]
    _keep_swapped(verdict, findings)
    if all(f.ok for fs in findings for f in fs):
        verdict.note(f"with jaxrnn's {spec.uses} in its place your loop is right: the "
                     f"mistakes are {spec.uses}'s")  # fmt: skip
        if cell is not None:
            verdict.suspects = list(cell.suspects)
        return None
    verdict.note(f"with jaxrnn's {spec.uses} in its place your loop is still wrong")
    step, steps = _first_wrong_step(spec, findings)
    verdict.swapped_step = None if step is None else (step, steps)
    verdict.suspects = ["the loop"]
    return rerun


def _matching_slip(spec, results, arguments):
    """The catalogue's slip one of whose variants gives the learner's results on every
    case."""
    for slip in slips.for_exercise(spec.number):
        for variant in slip.variants:
            try:
                variants = [variant(*args) for args in arguments]
            except Exception:  # noqa: BLE001 - a variant that cannot run here does not match
                continue
            if all(all(f.ok for f in compare(spec, got, want, scalars=True))
                   for got, want in zip(results, variants, strict=True)):  # fmt: skip
                return slip
    return None


def _weights_from_outside(runner, spec, arguments, result):
    """The probe of a cell backward right on the documents' test cell: the same cache with
    other weights; one whose ``dxt`` and the previous states' gradients, which read the
    weights, do not change reads them from elsewhere. Only a function right on the test cell
    (whose weights a notebook's globals hold) can be reading its globals."""
    probe = next((s for s in slips.for_exercise(spec.number)
                  if s.probe == "weights-from-globals"), None)  # fmt: skip
    *cotangents, cache = arguments
    if probe is None or not isinstance(cache, (tuple, list)) or not isinstance(cache[-1], Mapping):
        return None
    rng = np.random.default_rng(0)
    weights = [k for k in spec.cell.gradient_keys if k.startswith("W")]
    other = {**cache[-1], **{k: rng.standard_normal(np.shape(cache[-1][k])) for k in weights}}
    try:
        changed = runner.call(spec.function, *cotangents, (*cache[:-1], other))
    except LearnerError:
        return None
    reading = ["dxt", *(f"d{s}_prev" for s in spec.cell.state[:1])]
    same = all(
        isinstance(changed, Mapping) and k in changed and k in result
        and compare_array(k, changed[k], result[k], None).ok
        for k in reading
    )  # fmt: skip
    return probe if same else None


def _older_edition(spec, verdict, result) -> None:
    """The results on the documents' test cell against what an older edition of the document
    printed, where one printed wrong numbers (:data:`jaxrnn.course.exercises.OLDER_EDITION`)."""
    printed = exercises.OLDER_EDITION.get(spec.number)
    if printed is None or not isinstance(result, Mapping):
        return
    exercise = exercises.EXERCISES[spec.number - 1]
    try:
        observed = exercise.printed(result)
    except (KeyError, IndexError, TypeError, ValueError):
        return
    observed = {k: observed[k] for k in printed}
    for key, text in printed.items():  # the older edition printed dx sized from da
        size = len(exercises.parse_printed(text)[0])
        observed[key] = np.ravel(np.asarray(observed[key], np.float64))[:size]
    if all(line.ok for line in exercises.compare(observed, printed)):
        verdict.note(exercises.OLDER_EDITION_NOTE[spec.number])


def verdicts(runner, names=None, progress=None) -> list[Verdict]:
    """The verdicts on every exercise the runner's solution defines (or those of ``names``),
    in the documents' order; ``progress`` is called with each as it is found. A failure of
    jaxrnn's own while checking one is its verdict (*not checked*), never the end of the
    report."""
    found = runner.loaded.functions
    wanted = [n for n in NAMES if n in found and (names is None or n in names)]
    done = {}
    for name in NAMES:  # an exercise's forward before its backward, a cell before its loop
        if name in found and (name in wanted or _needed(name, wanted)):
            try:
                done[name] = diagnose(runner, name, done)
            except Exception as error:  # noqa: BLE001 - jaxrnn's own failure, said as such
                spec = SPECS[name]
                done[name] = Verdict(spec.number, name, found[name], ok=False,
                                         unchecked=_jaxrnn_failure(error))  # fmt: skip
            if progress is not None and name in wanted:
                progress(done[name])
    return [done[n] for n in wanted]


def _needed(name: str, wanted) -> bool:
    """Whether a wanted exercise takes ``name``'s verdict: its forward, or its loop's cell."""
    return any(name in (SPECS[w].forward, SPECS[w].uses) for w in wanted)
