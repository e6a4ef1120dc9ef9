"""The documents' eight test cells and their printed **Expected Output**, as data.

Each cell builds its inputs exactly as the document does (``np.random.seed(1)``, the same draws
in the same order), runs them through an implementation of the documents' API (jaxrnn itself,
or anything with the same function names, such as :mod:`jaxrnn.autodiff` for the backward
passes), and returns what the document prints. :func:`compare` checks those values against the
printed expectations to the printed precision. ``jaxrnn check`` and the test suite both use it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _draw(dtype, *shapes):
    return [np.random.randn(*shape).astype(dtype) for shape in shapes]


def _draw_parameters(dtype, names_and_shapes):
    return {name: np.random.randn(*shape).astype(dtype) for name, shape in names_and_shapes}


_RNN_SHAPES = {"Wax": (5, 3), "Waa": (5, 5), "Wya": (2, 5), "ba": (5, 1), "by": (2, 1)}
# the documents' RNN test cells draw the parameters in these orders
_RNN_FORWARD_ORDER = [(k, _RNN_SHAPES[k]) for k in ("Waa", "Wax", "Wya", "ba", "by")]
_RNN_BACKWARD_ORDER = [(k, _RNN_SHAPES[k]) for k in ("Wax", "Waa", "Wya", "ba", "by")]
_LSTM_GATES_ORDER = [
    (k, (5, 8) if k[0] == "W" else (5, 1)) for k in ("Wf", "bf", "Wi", "bi", "Wo", "bo", "Wc", "bc")
]
_LSTM_ORDER = [*_LSTM_GATES_ORDER, ("Wy", (2, 5)), ("by", (2, 1))]


def rnn_cell_forward_cell(api, dtype):
    np.random.seed(1)
    xt, a_prev = _draw(dtype, (3, 10), (5, 10))
    parameters = _draw_parameters(dtype, _RNN_FORWARD_ORDER)
    a_next, yt_pred, cache = api.rnn_cell_forward(xt, a_prev, parameters)
    return {
        "a_next[4]": a_next[4], "a_next.shape": a_next.shape,
        "yt_pred[1]": yt_pred[1], "yt_pred.shape": yt_pred.shape,
    }  # fmt: skip


def rnn_forward_cell(api, dtype):
    np.random.seed(1)
    x, a0 = _draw(dtype, (3, 10, 4), (5, 10))
    parameters = _draw_parameters(dtype, _RNN_FORWARD_ORDER)
    a, y_pred, caches = api.rnn_forward(x, a0, parameters)
    return {
        "a[4][1]": a[4][1], "a.shape": a.shape,
        "y_pred[1][3]": y_pred[1][3], "y_pred.shape": y_pred.shape,
        "caches[1][1][3]": caches[1][1][3], "len(caches)": len(caches),
    }  # fmt: skip


def lstm_cell_forward_cell(api, dtype):
    np.random.seed(1)
    xt, a_prev, c_prev = _draw(dtype, (3, 10), (5, 10), (5, 10))
    parameters = _draw_parameters(dtype, _LSTM_ORDER)
    a_next, c_next, yt, cache = api.lstm_cell_forward(xt, a_prev, c_prev, parameters)
    return {
        "a_next[4]": a_next[4], "a_next.shape": a_next.shape,
        "c_next[2]": c_next[2], "c_next.shape": c_next.shape,
        "yt[1]": yt[1], "yt.shape": yt.shape,
        "cache[1][3]": cache[1][3], "len(cache)": len(cache),
    }  # fmt: skip


def lstm_forward_cell(api, dtype):
    np.random.seed(1)
    x, a0 = _draw(dtype, (3, 10, 7), (5, 10))
    parameters = _draw_parameters(dtype, _LSTM_ORDER)
    a, y, c, caches = api.lstm_forward(x, a0, parameters)
    return {
        "a[4][3][6]": a[4][3][6], "a.shape": a.shape,
        "y[1][4][3]": y[1][4][3], "y.shape": y.shape,
        "caches[1][1][1]": caches[1][1][1], "c[1][2][1]": c[1][2][1],
        "len(caches)": len(caches),
    }  # fmt: skip


def _gradient_lines(gradients, entries):
    out = {}
    for key, index in entries:
        value = gradients[key]
        for i in index:
            value = value[i]
        out[f'gradients["{key}"]' + "".join(f"[{i}]" for i in index)] = value
        out[f'gradients["{key}"].shape'] = gradients[key].shape
    return out


def rnn_cell_backward_cell(api, dtype, forward_api=None):
    forward_api = forward_api or api
    np.random.seed(1)
    xt, a_prev = _draw(dtype, (3, 10), (5, 10))
    parameters = _draw_parameters(dtype, _RNN_BACKWARD_ORDER)
    a_next, yt, cache = forward_api.rnn_cell_forward(xt, a_prev, parameters)
    (da_next,) = _draw(dtype, (5, 10))
    gradients = api.rnn_cell_backward(da_next, cache)
    return _gradient_lines(
        gradients,
        [("dxt", (1, 2)), ("da_prev", (2, 3)), ("dWax", (3, 1)), ("dWaa", (1, 2)), ("dba", (4,))],
    )


def rnn_backward_cell(api, dtype, forward_api=None):
    forward_api = forward_api or api
    np.random.seed(1)
    x, a0 = _draw(dtype, (3, 10, 4), (5, 10))
    parameters = _draw_parameters(dtype, _RNN_BACKWARD_ORDER)
    a, y, caches = forward_api.rnn_forward(x, a0, parameters)
    (da,) = _draw(dtype, (5, 10, 4))
    gradients = api.rnn_backward(da, caches)
    return _gradient_lines(
        gradients,
        [("dx", (1, 2)), ("da0", (2, 3)), ("dWax", (3, 1)), ("dWaa", (1, 2)), ("dba", (4,))],
    )


_LSTM_GRADIENT_ENTRIES = [
    ("dWf", (3, 1)), ("dWi", (1, 2)), ("dWc", (3, 1)), ("dWo", (1, 2)),
    ("dbf", (4,)), ("dbi", (4,)), ("dbc", (4,)), ("dbo", (4,)),
]  # fmt: skip


def lstm_cell_backward_cell(api, dtype, forward_api=None):
    forward_api = forward_api or api
    np.random.seed(1)
    xt, a_prev, c_prev = _draw(dtype, (3, 10), (5, 10), (5, 10))
    parameters = _draw_parameters(dtype, _LSTM_ORDER)
    a_next, c_next, yt, cache = forward_api.lstm_cell_forward(xt, a_prev, c_prev, parameters)
    da_next, dc_next = _draw(dtype, (5, 10), (5, 10))
    gradients = api.lstm_cell_backward(da_next, dc_next, cache)
    return _gradient_lines(
        gradients,
        [("dxt", (1, 2)), ("da_prev", (2, 3)), ("dc_prev", (2, 3)), *_LSTM_GRADIENT_ENTRIES],
    )


def lstm_backward_cell(api, dtype, forward_api=None):
    forward_api = forward_api or api
    np.random.seed(1)
    x, a0 = _draw(dtype, (3, 10, 7), (5, 10))
    parameters = _draw_parameters(dtype, _LSTM_GATES_ORDER)
    parameters["Wy"] = np.zeros((2, 5), dtype)  # unused by the backward, needed by the forward
    parameters["by"] = np.zeros((2, 1), dtype)
    a, y, c, caches = forward_api.lstm_forward(x, a0, parameters)
    (da,) = _draw(dtype, (5, 10, 4))  # 4 steps of the 7: the document's quirk, kept
    gradients = api.lstm_backward(da, caches)
    return _gradient_lines(gradients, [("dx", (1, 2)), ("da0", (2, 3)), *_LSTM_GRADIENT_ENTRIES])


@dataclass(frozen=True)
class Exercise:
    number: int
    function: str
    document: str
    run: Callable
    expected: dict
    backward: bool = False


def _g(key, index, value, shape):
    return {f'gradients["{key}"]{index}': value, f'gradients["{key}"].shape': shape}


EXERCISES = (
    Exercise(1, "rnn_cell_forward", "rnn_step_by_step.md", rnn_cell_forward_cell, {
        "a_next[4]": "[ 0.59584544  0.18141802  0.61311866  0.99808218  0.85016201  0.99980978"
                     " -0.18887155  0.99815551  0.6531151   0.82872037]",
        "a_next.shape": "(5, 10)",
        "yt_pred[1]": "[ 0.9888161   0.01682021  0.21140899  0.36817467  0.98988387  0.88945212"
                      "  0.36920224  0.9966312   0.9982559   0.17746526]",
        "yt_pred.shape": "(2, 10)",
    }),
    Exercise(2, "rnn_forward", "rnn_step_by_step.md", rnn_forward_cell, {
        "a[4][1]": "[-0.99999375  0.77911235 -0.99861469 -0.99833267]",
        "a.shape": "(5, 10, 4)",
        "y_pred[1][3]": "[ 0.79560373  0.86224861  0.11118257  0.81515947]",
        "y_pred.shape": "(2, 10, 4)",
        "caches[1][1][3]": "[-1.1425182  -0.34934272 -0.20889423  0.58662319]",
        "len(caches)": "2",
    }),
    Exercise(3, "lstm_cell_forward", "lstm_step_by_step.md", lstm_cell_forward_cell, {
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
    Exercise(4, "lstm_forward", "lstm_step_by_step.md", lstm_forward_cell, {
        "a[4][3][6]": "0.172117767533",
        "a.shape": "(5, 10, 7)",
        "y[1][4][3]": "0.95087346185",
        "y.shape": "(2, 10, 7)",
        "caches[1][1][1]": "[ 0.82797464  0.23009474  0.76201118 -0.22232814 -0.20075807"
                           "  0.18656139  0.41005165]",
        "c[1][2][1]": "-0.855544916718",
        "len(caches)": "2",
    }),
    Exercise(5, "rnn_cell_backward", "rnn_step_by_step.md", rnn_cell_backward_cell, {
        **_g("dxt", "[1][2]", "-1.3872130506", "(3, 10)"),
        **_g("da_prev", "[2][3]", "-0.152399493774", "(5, 10)"),
        **_g("dWax", "[3][1]", "0.410772824935", "(5, 3)"),
        **_g("dWaa", "[1][2]", "1.15034506685", "(5, 5)"),
        **_g("dba", "[4]", "[ 0.20023491]", "(5, 1)"),
    }, backward=True),
    Exercise(6, "rnn_backward", "rnn_step_by_step.md", rnn_backward_cell, {
        **_g("dx", "[1][2]", "[-2.07101689 -0.59255627  0.02466855  0.01483317]", "(3, 10, 4)"),
        **_g("da0", "[2][3]", "-0.314942375127", "(5, 10)"),
        **_g("dWax", "[3][1]", "11.2641044965", "(5, 3)"),
        **_g("dWaa", "[1][2]", "2.30333312658", "(5, 5)"),
        **_g("dba", "[4]", "[-0.74747722]", "(5, 1)"),
    }, backward=True),
    Exercise(7, "lstm_cell_backward", "lstm_step_by_step.md", lstm_cell_backward_cell, {
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
    }, backward=True),
    Exercise(8, "lstm_backward", "lstm_step_by_step.md", lstm_backward_cell, {
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
    }, backward=True),
)  # fmt: skip

#: what an older edition of the LSTM document printed as lstm_backward's Expected Output, on
#: the same test cell: computed by a loop that carries nothing from step t+1 to step t (the
#: slip jaxrnn.slips calls "carries-nothing"), its dx sized from da. Learners matched these
#: numbers and believed a wrong loop; the values above are the true gradient.
OLDER_EDITION = {
    8: {
        'gradients["dx"][1][2]': "[-0.00173313  0.08287442 -0.30545663 -0.43281115]",
        'gradients["da0"][2][3]': "-0.095911501954",
        'gradients["dWf"][3][1]': "-0.0698198561274",
    }
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
    """Run one exercise's test cell against ``api`` (default: jaxrnn) and return its values."""
    import jaxrnn

    api = api or jaxrnn
    if exercise.backward:
        return exercise.run(api, dtype, forward_api=forward_api or jaxrnn)
    return exercise.run(api, dtype)


__all__ = [
    "EXERCISES", "OLDER_EDITION", "Exercise", "Line", "compare", "parse_printed", "run_exercise",
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
