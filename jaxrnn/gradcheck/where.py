"""Where a gradient (or any output) departs from its reference, in the documents' terms.

A verdict that names a gradient says *that* it is wrong; this says *where*: the worst element,
its index, and what the index means for the array's symbolic shape — for ``dx (n_x, m, T_x)``
the input row, the example and the time step; for ``dWf (n_a, n_a + n_x)`` the gate's row and
whether the column acts on ``a_prev`` or on ``xt`` — and, along a time axis, the steps that
depart. A reverse scan goes wrong first at the latest of them, a forward at the earliest.
The gradient checker's report and ``jaxrnn check FILE`` both use it.

>>> import numpy as np
>>> want = np.ones((3, 2, 4))
>>> got = want.copy(); got[1, 0, :2] += 0.5  # steps 0 and 1 of example 0, input row 1
>>> where = locate(got, want, "n_x m T_x", tolerance=1e-10)
>>> where.index, where.meaning, where.steps
((1, 0, 0), 'input row 1, example 0, step 0', (0, 1))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: what an index along an axis of each symbol is called
AXES = {
    "n_x": "input row",
    "n_a": "row",
    "n_y": "output row",
    "m": "example",
    "T_x": "step",
    "T_da": "step",
    "T": "step",
}
#: the symbols of a time axis
TIME = ("T_x", "T_da", "T")
#: the symbol of the axis a complex array is checked along: its real and imaginary parts
PART = "part"
#: what the blocks of a concatenated axis act on, by symbol: [a_prev; xt]
BLOCKS = {"n_a": "a_prev", "n_x": "xt", "n_y": "y"}


@dataclass(frozen=True)
class Where:
    """The worst element of a wrong array, and the time steps that depart.

    Attributes:
        index: the worst element's index.
        error: its ``|got - want|`` over ``max |want|``.
        meaning: the index in the documents' terms (``"row 3, column 6, on xt[1]"``), or the
            bare index where the shape's symbols are not known.
        steps: the time steps whose error exceeds the tolerance, ``(earliest, latest)``, or
            ``None`` without a time axis (or when none does).
    """

    index: tuple
    error: float
    meaning: str
    steps: tuple[int, int] | None = None

    def __str__(self) -> str:
        text = f"worst at [{', '.join(map(str, self.index))}] ({self.meaning}), off by "
        text += f"{self.error:.1e} of the largest entry"
        if self.steps is not None:
            first, last = self.steps
            text += (
                f"; step {first} departs" if first == last else f"; steps {first} to {last} depart"
            )
        return text


def locate(got, want, dims: str | None = None, tolerance: float = 0.0, sizes=None) -> Where:
    """Where ``got`` departs most from ``want`` (same shapes).

    Arguments:
        got, want: the array and its reference.
        dims: their symbolic shape, ``"n_x m T_x"`` or ``"n_a n_a+n_x"``; ``None`` for none.
        tolerance: the relative error (to ``max |want|``) a time step may have and not depart.
        sizes: ``{"n_a": 5, ...}`` where the shape alone does not tell a sum's parts apart.
    """
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = float(np.max(np.abs(want), initial=0.0)) or 1.0
    diff = np.array(np.abs(got - want))  # an array even for a 0-d one, to be written into
    diff[~np.isfinite(diff)] = np.inf
    index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    symbols = dims.split() if dims else None
    if symbols is not None and len(symbols) != got.ndim:
        raise ValueError(f"locate: dims {dims!r} for an array of rank {got.ndim}")
    meaning = _meaning(index, symbols, got.shape, sizes or {})
    steps = None
    time = [i for i, s in enumerate(symbols or ()) if s in TIME]
    if time:
        axis = time[0]
        others = tuple(i for i in range(got.ndim) if i != axis)
        per_step = np.max(diff, axis=others) / scale if others else diff / scale
        departing = np.flatnonzero(per_step > tolerance)
        if departing.size:
            steps = (int(departing[0]), int(departing[-1]))
    return Where(index, float(diff[index]) / scale, meaning, steps)


def _meaning(index, symbols, shape, sizes) -> str:
    """``(3, 6)`` of ``"n_a n_a+n_x"`` -> ``"row 3, column 6, on xt[1]"``."""
    if symbols is None:
        return "index " + ", ".join(map(str, index))
    known = dict(sizes)
    for symbol, size in zip(symbols, shape, strict=True):
        if "+" not in symbol and not symbol.isdigit():
            known.setdefault(symbol, size)
    parts = []
    # states and inputs: rows, examples, steps; weights: rows, columns
    data = "m" in symbols
    for axis, (i, symbol, size) in enumerate(zip(index, symbols, shape, strict=True)):
        if symbol.isdigit():  # a bias's column
            continue
        if symbol == PART:  # a complex entry, checked as its two real parts
            parts.append(("real", "imaginary")[i] + " part")
            continue
        if data:
            parts.append(f"{AXES.get(symbol, symbol)} {i}")
        elif axis == 0:
            parts.append(f"row {i}")
        else:
            parts.append(f"column {i}" + _block(i, symbol.split("+"), size, known))
    return ", ".join(parts) or "its only entry"


def _block(i: int, terms: list[str], size: int, known: dict) -> str:
    """Which block of a concatenated axis (``size`` long) column ``i`` falls in:
    ``", on xt[1]"``; one term's size may be unknown, the rest of the axis."""
    unknown = [t for t in terms if t not in known]
    if len(unknown) > 1:
        return ""
    sizes = {**known, **{t: size - sum(known[k] for k in terms if k in known) for t in unknown}}
    start = 0
    for term in terms:
        if i < start + sizes[term]:
            return f", on {BLOCKS.get(term, term)}[{i - start}]"
        start += sizes[term]
    return ""


__all__ = ["AXES", "BLOCKS", "PART", "TIME", "Where", "locate"]
