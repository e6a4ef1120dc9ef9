"""A registry of jaxrnn's architectures and the calling convention they share.

Every architecture follows the documents' pattern:

* ``cell_forward(xt, *state_prev, parameters) -> (*state_next, yt_pred, cache)``
* ``cell_backward(*dstate_next, cache) -> {"dxt", "d<state>_prev"..., "d<parameter>"...}``
* ``forward(x, a0, parameters) -> (a, y_pred, ...)`` with ``caches`` last
* ``backward(da, caches) -> {"dx", "da0", "d<parameter>"...}``

so code that treats them alike (the autodiff twins, the gradient checker, ``jaxrnn check``, the
tests) loops over :data:`CELLS` instead of naming each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from jaxrnn import gru, lstm, rnn
from jaxrnn.unroll import Recurrence


@dataclass(frozen=True)
class Cell:
    name: str
    cell_forward: Callable
    cell_backward: Callable
    forward: Callable
    backward: Callable
    #: names of the recurrent state a cell step carries, hidden state first
    state: tuple[str, ...]
    #: parameters the backward differentiates, in the documents' dictionary order
    gradient_keys: tuple[str, ...]
    #: ``{key: "n_a n_a+n_x"}``: every parameter's shape in the documents' symbols
    parameter_shapes: dict
    #: ``{field: "n_a m"}``: the cell cache's fields before its final ``parameters``
    cache_fields: dict
    #: ``step_backward(dstate, fields, w, columns) -> (dstate_prev, columns)``: the per-step
    #: part of the cell backward, which the reverse scans of :mod:`jaxrnn.unroll` run; it writes
    #: ``dpre`` into its step's :class:`jaxrnn.unroll.GateColumns`
    step_backward: Callable
    #: the sequence forward's split of ``cell_forward``: the input's products of all steps at
    #: once, then only the recurrence step by step (:class:`jaxrnn.unroll.Recurrence`)
    recurrence: Recurrence
    #: ``parameter_backward(dpre, fields, parameters) -> (dxs, {"d<key>": ...})``: the rest of
    #: the backward, for all steps at once, from every step's ``dpre`` as columns ``(n, T m)``
    parameter_backward: Callable
    #: ``check(fn, [(name, array, "n_a m")...], parameters) -> (*arrays, parameters)``: the
    #: module's argument checks, casting everything to one dtype
    check: Callable

    @property
    def output_keys(self) -> tuple[str, str]:
        """The output layer's weight and bias keys."""
        return self.recurrence.output_keys

    @property
    def parameter_keys(self) -> tuple[str, ...]:
        return tuple(self.parameter_shapes)

    @property
    def cache_length(self) -> int:
        """How many entries a cell cache has, the parameters included."""
        return len(self.cache_fields) + 1

    def cache_inputs(self, cache) -> tuple:
        """``(xt, *state_prev)``: where a step's inputs sit in its cell cache."""
        fields = list(self.cache_fields)
        return tuple(cache[fields.index(f)] for f in ("xt", *(f"{s}_prev" for s in self.state)))

    def shapes(self, n_x: int, n_a: int, n_y: int) -> dict:
        """``{key: shape}`` in numbers."""
        sizes = {"n_x": n_x, "n_a": n_a, "n_y": n_y}
        return {
            k: tuple(sum(sizes.get(t, 0) or int(t) for t in d.split("+")) for d in dims.split())
            for k, dims in self.parameter_shapes.items()
        }

    def random_parameters(
        self, rng: np.random.Generator, n_x, n_a, n_y, dtype=np.float32, scale=1.0
    ):
        """Standard-normal parameters times ``scale``, as NumPy arrays of ``dtype``."""
        shapes = self.shapes(n_x, n_a, n_y)
        return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


RNN = Cell(
    "rnn", rnn.rnn_cell_forward, rnn.rnn_cell_backward, rnn.rnn_forward, rnn.rnn_backward,
    ("a",), rnn.GRADIENT_KEYS, rnn.PARAMETER_SHAPES, rnn.CACHE_FIELDS,
    rnn.step_backward, rnn.RECURRENCE,
    rnn.parameter_backward, rnn._checked,
)  # fmt: skip
LSTM = Cell(
    "lstm", lstm.lstm_cell_forward, lstm.lstm_cell_backward, lstm.lstm_forward,
    lstm.lstm_backward, ("a", "c"), lstm.GRADIENT_KEYS, lstm.PARAMETER_SHAPES,
    lstm.CACHE_FIELDS, lstm.step_backward, lstm.RECURRENCE,
    lstm.parameter_backward, lstm._checked,
)  # fmt: skip

GRU = Cell(
    "gru", gru.gru_cell_forward, gru.gru_cell_backward, gru.gru_forward, gru.gru_backward,
    ("a",), gru.GRADIENT_KEYS, gru.PARAMETER_SHAPES, gru.CACHE_FIELDS,
    gru.step_backward, gru.RECURRENCE,
    gru.parameter_backward, gru._checked,
)  # fmt: skip

#: every architecture, by name
CELLS = {cell.name: cell for cell in (RNN, LSTM, GRU)}


def resolve(fn: str, cell) -> Cell:
    """A :class:`Cell` from itself or its name, or a clear error listing the known names."""
    if isinstance(cell, Cell):
        return cell
    if isinstance(cell, str):
        if cell not in CELLS:
            raise ValueError(f"{fn}: unknown cell {cell!r}; the known cells are {sorted(CELLS)}")
        return CELLS[cell]
    raise TypeError(
        f"{fn}: `cell` must be a cell name ({', '.join(sorted(CELLS))}) or a jaxrnn.cells.Cell; "
        f"got {type(cell).__name__}"
    )
