"""The documents' eight test cells and their printed **Expected Output**, as data.

Each test cell is what the document writes: its draws from ``np.random.seed(1)``, in the same
order and shapes (:meth:`Exercise.inputs`, drawn from a generator of its own so that nobody's
global NumPy state changes), the call of its function (a backward's forward first, for the
cache), and the expressions it prints, with the values it printed. :func:`run_exercise` runs
a cell against an implementation of the documents' API (jaxrnn itself, or anything with the
same function names, such as :mod:`jaxrnn.autodiff` for the backward passes) and returns
what it would print; :func:`compare` checks those values against the printed ones, to the
printed precision. ``jaxrnn check``, ``jaxrnn check FILE`` and the test suite use them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import numpy as np

_RNN_SHAPES = {"Wax": (5, 3), "Waa": (5, 5), "Wya": (2, 5), "ba": (5, 1), "by": (2, 1)}
# the documents' RNN test cells draw the parameters in these orders
_RNN_FORWARD_ORDER = tuple((k, _RNN_SHAPES[k]) for k in ("Waa", "Wax", "Wya", "ba", "by"))
_RNN_BACKWARD_ORDER = tuple((k, _RNN_SHAPES[k]) for k in ("Wax", "Waa", "Wya", "ba", "by"))
_LSTM_GATES_ORDER = tuple(
    (k, (5, 8) if k[0] == "W" else (5, 1)) for k in ("Wf", "bf", "Wi", "bi", "Wo", "bo", "Wc", "bc")
)
_LSTM_ORDER = (*_LSTM_GATES_ORDER, ("Wy", (2, 5)), ("by", (2, 1)))


@dataclass(frozen=True)
class Exercise:
    """One exercise's test cell.

    Attributes:
        number, function, document: the exercise, its function and the document it is in.
        draws: the forward's arguments in the order the cell draws them, ``(name, shape)``, or
            ``("parameters", ((key, shape), ...))`` for the parameters' dictionary.
        returns: the names the cell gives the function's results (``"gradients"`` for a
            backward's dictionary); the printed expressions use them.
        expected: ``{expression: printed value}``: what the cell prints, and the document's
            Expected Output.
        forward: for a backward, the forward whose cache it is given.
        cotangents: for a backward, its gradient arguments drawn after the forward ran.
        zeros: parameters the cell sets to zeros instead of drawing, ``{key: shape}``.
    """

    number: int
    function: str
    document: str
    draws: tuple
    returns: tuple
    expected: dict
    forward: str | None = None
    cotangents: tuple = ()
    zeros: dict = field(default_factory=dict)

    @property
    def backward(self) -> bool:
        return self.forward is not None

    def inputs(self, dtype=np.float64) -> tuple[tuple, tuple]:
        """``(the forward's arguments, the cotangents)`` as the document draws them:
        ``np.random.seed(1)``, then ``np.random.randn`` in order, cast to ``dtype``."""
        draw = np.random.RandomState(1).randn
        arguments = []
        for name, shape in self.draws:
            if name == "parameters":
                p = {k: draw(*s).astype(dtype) for k, s in shape}
                arguments.append(p | {k: np.zeros(s, dtype) for k, s in self.zeros.items()})
            else:
                arguments.append(draw(*shape).astype(dtype))
        cotangents = tuple(draw(*shape).astype(dtype) for _, shape in self.cotangents)
        return tuple(arguments), cotangents

    def printed(self, results) -> dict:
        """What the cell prints of the function's results: ``{expression: value}``."""
        if self.backward:
            results = (results,)
        names = dict(zip(self.returns, results, strict=False))
        return {label: eval(label, {"len": len}, names) for label in self.expected}  # noqa: S307


def _g(key, index, value, shape):
    return {f'gradients["{key}"]{index}': value, f'gradients["{key}"].shape': shape}


#: the documents' eight exercises, in their order
EXERCISES = (
    Exercise(1, "rnn_cell_forward", "rnn_step_by_step.md",
             (("xt", (3, 10)), ("a_prev", (5, 10)), ("parameters", _RNN_FORWARD_ORDER)),
             ("a_next", "yt_pred", "cache"), {
        "a_next[4]": "[ 0.59584544  0.18141802  0.61311866  0.99808218  0.85016201  0.99980978"
                     " -0.18887155  0.99815551  0.6531151   0.82872037]",
        "a_next.shape": "(5, 10)",
        "yt_pred[1]": "[ 0.9888161   0.01682021  0.21140899  0.36817467  0.98988387  0.88945212"
                      "  0.36920224  0.9966312   0.9982559   0.17746526]",
        "yt_pred.shape": "(2, 10)",
    }),
    Exercise(2, "rnn_forward", "rnn_step_by_step.md",
             (("x", (3, 10, 4)), ("a0", (5, 10)), ("parameters", _RNN_FORWARD_ORDER)),
             ("a", "y_pred", "caches"), {
        "a[4][1]": "[-0.99999375  0.77911235 -0.99861469 -0.99833267]",
        "a.shape": "(5, 10, 4)",
        "y_pred[1][3]": "[ 0.79560373  0.86224861  0.11118257  0.81515947]",
        "y_pred.shape": "(2, 10, 4)",
        "caches[1][1][3]": "[-1.1425182  -0.34934272 -0.20889423  0.58662319]",
        "len(caches)": "2",
    }),
    Exercise(3, "lstm_cell_forward", "lstm_step_by_step.md",
             (("xt", (3, 10)), ("a_prev", (5, 10)), ("c_prev", (5, 10)),
              ("parameters", _LSTM_ORDER)), ("a_next", "c_next", "yt", "cache"), {
        "a_next[4]": "[-0.66408471  0.0036921   0.02088357  0.22834167 -0.85575339  0.00138482"
                     "  0.76566531  0.34631421 -0.00215674  0.43827275]",
        "a_next.shape": "(5, 10)",
        "c_next[2]": "[ 0.63267805  1.00570849  0.35504474  0.20690913 -1.64566718  0.11832942"
                     "  0.76449811 -0.0981561  -0.74348425 -0.26810932]",
        "c_next.shape": "(5, 10)",
        "yt[1]": "[ 0.79913913  0.15986619  0.22412122  0.15606108  0.97057211  0.31146381"
                 "  0.00943007  0.12666353  0.39380172  0.07828381]",
        "yt.shape": "(2, 10)",
        "cache[1][3]": "[-0.16263996  1.03729328  0.72938082 -0.54101719  0.02752074 -0.30821874"
                       "  0.07651101 -1.03752894  1.41219977 -0.37647422]",
        "len(cache)": "10",
    }),
    Exercise(4, "lstm_forward", "lstm_step_by_step.md",
             (("x", (3, 10, 7)), ("a0", (5, 10)), ("parameters", _LSTM_ORDER)),
             ("a", "y", "c", "caches"), {
        "a[4][3][6]": "0.172117767533",
        "a.shape": "(5, 10, 7)",
        "y[1][4][3]": "0.95087346185",
        "y.shape": "(2, 10, 7)",
        "caches[1][1][1]": "[ 0.82797464  0.23009474  0.76201118 -0.22232814 -0.20075807"
                           "  0.18656139  0.41005165]",
        "c[1][2][1]": "-0.855544916718",
        "len(caches)": "2",
    }),
    Exercise(5, "rnn_cell_backward", "rnn_step_by_step.md",
             (("xt", (3, 10)), ("a_prev", (5, 10)), ("parameters", _RNN_BACKWARD_ORDER)),
             ("gradients",), {
        **_g("dxt", "[1][2]", "-1.3872130506", "(3, 10)"),
        **_g("da_prev", "[2][3]", "-0.152399493774", "(5, 10)"),
        **_g("dWax", "[3][1]", "0.410772824935", "(5, 3)"),
        **_g("dWaa", "[1][2]", "1.15034506685", "(5, 5)"),
        **_g("dba", "[4]", "[ 0.20023491]", "(5, 1)"),
    }, forward="rnn_cell_forward", cotangents=(("da_next", (5, 10)),)),
    Exercise(6, "rnn_backward", "rnn_step_by_step.md",
             (("x", (3, 10, 4)), ("a0", (5, 10)), ("parameters", _RNN_BACKWARD_ORDER)),
             ("gradients",), {
        **_g("dx", "[1][2]", "[-2.07101689 -0.59255627  0.02466855  0.01483317]", "(3, 10, 4)"),
        **_g("da0", "[2][3]", "-0.314942375127", "(5, 10)"),
        **_g("dWax", "[3][1]", "11.2641044965", "(5, 3)"),
        **_g("dWaa", "[1][2]", "2.30333312658", "(5, 5)"),
        **_g("dba", "[4]", "[-0.74747722]", "(5, 1)"),
    }, forward="rnn_forward", cotangents=(("da", (5, 10, 4)),)),
    Exercise(7, "lstm_cell_backward", "lstm_step_by_step.md",
             (("xt", (3, 10)), ("a_prev", (5, 10)), ("c_prev", (5, 10)),
              ("parameters", _LSTM_ORDER)), ("gradients",), {
        **_g("dxt", "[1][2]", "3.23055911511", "(3, 10)"),
        **_g("da_prev", "[2][3]", "-0.0639621419711", "(5, 10)"),
        **_g("dc_prev", "[2][3]", "0.797522038797", "(5, 10)"),
        **_g("dWf", "[3][1]", "-0.147954838164", "(5, 8)"),
        **_g("dWi", "[1][2]", "1.05749805523", "(5, 8)"),
        **_g("dWc", "[3][1]", "2.30456216369", "(5, 8)"),
        **_g("dWo", "[1][2]", "0.331311595289", "(5, 8)"),
        **_g("dbf", "[4]", "[ 0.18864637]", "(5, 1)"),
        **_g("dbi", "[4]", "[-0.40142491]", "(5, 1)"),
        **_g("dbc", "[4]", "[ 0.25587763]", "(5, 1)"),
        **_g("dbo", "[4]", "[ 0.13893342]", "(5, 1)"),
    }, forward="lstm_cell_forward", cotangents=(("da_next", (5, 10)), ("dc_next", (5, 10)))),
    Exercise(8, "lstm_backward", "lstm_step_by_step.md",
             (("x", (3, 10, 7)), ("a0", (5, 10)), ("parameters", _LSTM_GATES_ORDER)),
             ("gradients",), {
        **_g("dx", "[1][2]", "[ 0.00218254  0.28205375 -0.48292508 -0.43281115  0.  0.  0. ]",
             "(3, 10, 7)"),
        **_g("da0", "[2][3]", "0.312770310257", "(5, 10)"),
        **_g("dWf", "[3][1]", "-0.0809802310938", "(5, 8)"),
        **_g("dWi", "[1][2]", "0.40512433093", "(5, 8)"),
        **_g("dWc", "[3][1]", "-0.0793746735512", "(5, 8)"),
        **_g("dWo", "[1][2]", "0.038948775763", "(5, 8)"),
        **_g("dbf", "[4]", "[-0.15745657]", "(5, 1)"),
        **_g("dbi", "[4]", "[-0.50848333]", "(5, 1)"),
        **_g("dbc", "[4]", "[-0.42510818]", "(5, 1)"),
        **_g("dbo", "[4]", "[ -0.17958196]", "(5, 1)"),
    }, forward="lstm_forward", cotangents=(("da", (5, 10, 4)),),  # 4 of x's 7: kept
       zeros={"Wy": (2, 5), "by": (2, 1)}),  # unused by the backward, needed by the forward
)  # fmt: skip

#: what an older edition of the LSTM document printed as lstm_backward's Expected Output, on
#: the same test cell: computed by a loop that carries nothing from step t+1 to step t (the
#: slip jaxrnn.course.slips calls "carries-nothing"), its dx sized from da. Learners matched these
#: numbers and believed a wrong loop; the values above are the true gradient.
OLDER_EDITION = {
    8: {
        'gradients["dx"][1][2]': "[-0.00173313  0.08287442 -0.30545663 -0.43281115]",
        'gradients["da0"][2][3]': "-0.095911501954",
        'gradients["dWf"][3][1]': "-0.0698198561274",
    }
}
#: what ``jaxrnn check FILE`` says of results that are an older edition's wrong numbers
OLDER_EDITION_NOTE = {
    8: "your results are the Expected Output an older edition of the LSTM document printed "
    "(dx[1][2] = [-0.00173313 0.08287442 -0.30545663 -0.43281115], da0[2][3] = -0.0959115...): "
    "those numbers came from a loop that carries nothing from step t+1 to step t, and are "
    "wrong. This document prints the true gradient: dx[1][2] = [0.00218254 0.28205375 "
    "-0.48292508 -0.43281115 0. 0. 0.], da0[2][3] = 0.3127703...",
}

_NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def parse_printed(text: str):
    """A printed value: a shape or int (``"(5, 10)"``, ``"2"``) or numbers with their decimals."""
    if text.startswith("(") or re.fullmatch(r"\d+", text):
        return ast.literal_eval(text), None
    numbers = _NUMBER.findall(text)
    values = np.array([float(n) for n in numbers])
    decimals = np.array([len(n.split(".")[1]) if "." in n else 0 for n in numbers])
    return values, decimals


@dataclass(frozen=True)
class Line:
    label: str
    expected: str
    observed: object
    ok: bool
    error: float  # largest |observed - expected| in units of the printed rounding, 0 for shapes


def compare(observed: dict, expected: dict, rtol: float = 0.0, atol: float = 0.0) -> list[Line]:
    """Compare a cell's values with the printed ones, to the printed precision.

    A printed number with ``d`` decimals stands for anything within half a unit of its last
    digit, ``0.5 * 10**-d``. Float64 must land there (plus ``1e-12`` for the last bits of
    float64 rounding); ``rtol``/``atol`` widen the band for lower precisions.
    """
    lines = []
    for label, text in expected.items():
        value = observed[label]
        want, decimals = parse_printed(text)
        if decimals is None:
            got = tuple(value) if isinstance(value, tuple) else int(value)
            lines.append(Line(label, text, got, got == want, 0.0))
            continue
        got = np.ravel(np.asarray(value, dtype=np.float64))
        if got.shape != want.shape:
            lines.append(Line(label, text, got, False, float("inf")))
            continue
        band = 0.5 * 10.0 ** (-decimals) + 1e-12 + atol + rtol * np.abs(want)
        error = np.abs(got - want) / band
        lines.append(Line(label, text, got, bool(np.all(error <= 1.0)), float(np.max(error))))
    return lines


def run_exercise(exercise: Exercise, api=None, dtype=np.float64, forward_api=None) -> dict:
    """Run one exercise's test cell against ``api`` (default: jaxrnn), a backward's forward
    against ``forward_api`` (default: jaxrnn), and return what it prints."""
    import jaxrnn

    arguments, cotangents = exercise.inputs(dtype)
    if exercise.backward:
        cache = getattr(forward_api or jaxrnn, exercise.forward)(*arguments)[-1]
        arguments = (*cotangents, cache)
    return exercise.printed(getattr(api or jaxrnn, exercise.function)(*arguments))


#: the name the documents' code gives what each equation computes (``dcct`` for eq. (8)),
#: by cell: the report page finds the line of a learner's code that computes an equation by
#: it (or by a comment citing the equation)
COMPUTED_AS = {
    "rnn": {
        "(1)": ("a_next",), "prediction": ("yt_pred",), "(3)": ("dtanh",), "(4)": ("dWax",),
        "(5)": ("dWaa",), "(6)": ("dba",), "(7)": ("dxt",), "(8)": ("da_prev",),
    },
    "lstm": {
        "(1)": ("ft",), "(2)": ("it",), "(3)": ("cct",), "(4)": ("c_next",), "(5)": ("ot",),
        "(6)": ("a_next",), "prediction": ("yt_pred",), "(7)": ("dot_", "dot"),
        "(8)": ("dcct",), "(9)": ("dit",), "(10)": ("dft",), "(11)": ("dWf",),
        "(12)": ("dWi",), "(13)": ("dWc",), "(14)": ("dWo",), "(15)": ("dbf",),
        "(16)": ("dbi",), "(17)": ("dbc",), "(18)": ("dbo",), "(19)": ("da_prev",),
        "(20)": ("dc_prev",), "(21)": ("dxt",),
    },
}  # fmt: skip


__all__ = [
    "COMPUTED_AS", "EXERCISES", "OLDER_EDITION", "OLDER_EDITION_NOTE", "Exercise", "Line",
    "compare", "parse_printed", "run_exercise", "side_by_side",
]  # fmt: skip


def side_by_side(number: int, observed: dict) -> str:
    """The document's expected output beside jaxrnn's, line by line; raises if any differs.

    For notebooks: ``number`` is the exercise (1-8), ``observed`` what the test cell printed.
    """
    exercise = EXERCISES[number - 1]
    lines = compare(observed, exercise.expected)
    rows = [f"exercise {number}, {exercise.function}: document | jaxrnn"]
    for line in lines:
        got = line.observed
        shown = (
            str(got)
            if isinstance(got, (tuple, int))
            else np.array2string(np.asarray(got), precision=8)
        )
        rows.append(f"  {line.label:<28} {'ok ' if line.ok else 'BAD'}  {line.expected}")
        rows.append(f"  {'':<28}      {shown}")
    text = "\n".join(rows)
    bad = [line.label for line in lines if not line.ok]
    if bad:
        raise AssertionError(f"not reproduced: {bad}\n{text}")
    return text
