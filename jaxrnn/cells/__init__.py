"""The built-in cells by name, and how generic code finds a cell.

Each architecture is a :class:`jaxrnn.Cell` defined at the end of its own module
(``rnn.py``, ``lstm.py``, ``gru.py``, ``gru_reset_after.py``); code that treats them alike (the
autodiff twins, the loss, the gradient checker, ``jaxrnn check``, the tests) loops over
:data:`CELLS` or takes any cell, built-in or not.
"""

from __future__ import annotations

import importlib

from jaxrnn._core.cell import Cell
from jaxrnn.cells import gru, gru_reset_after, lru, lstm, mingru, minlstm, rnn

#: the RNN document's cell (:mod:`jaxrnn.cells.rnn`)
RNN = rnn.RNN
#: the LSTM document's cell (:mod:`jaxrnn.cells.lstm`)
LSTM = lstm.LSTM
#: the course's GRU, reset before the matrix product (:mod:`jaxrnn.cells.gru`)
GRU = gru.GRU
#: the GRU of cuDNN, PyTorch and Flax, reset after the product (:mod:`jaxrnn.cells.gru_reset_after`)
GRU_RESET_AFTER = gru_reset_after.GRU_RESET_AFTER

#: minGRU, linear in its state (:mod:`jaxrnn.cells.mingru`)
MINGRU = mingru.MINGRU
#: minLSTM, linear in its state (:mod:`jaxrnn.cells.minlstm`)
MINLSTM = minlstm.MINLSTM
#: the Linear Recurrent Unit, a complex diagonal state and a real readout (:mod:`jaxrnn.cells.lru`)
LRU = lru.LRU

#: the documents' architectures and the GRUs, by name: what ``jaxrnn check`` reports on
CELLS = {cell.name: cell for cell in (RNN, LSTM, GRU, GRU_RESET_AFTER)}
#: today's recurrences, linear in the state, by name (``jaxrnn check --all``)
RECURRENCES = {cell.name: cell for cell in (MINGRU, MINLSTM, LRU)}


#: what follows a cell's name to ask for it on its parallel scan
SCAN = ".parallel_scan"


def label(cell: Cell) -> str:
    """The name :func:`resolve` knows a cell by: ``"mingru.parallel_scan"`` on its scan."""
    return cell.name + (SCAN if cell.parallel else "")


def resolve(fn: str, cell) -> Cell:
    """A :class:`Cell` from itself, a built-in cell's name, or ``"package.module:NAME"``;
    either name followed by ``.parallel_scan`` is that cell on its parallel scan
    (``"mingru.parallel_scan"``).

    Anything else raises an error listing what is known.
    """
    if isinstance(cell, Cell):
        return cell
    if isinstance(cell, str) and cell.endswith(SCAN) and cell != SCAN:
        return resolve(fn, cell.removesuffix(SCAN)).parallel_scan
    if isinstance(cell, str) and ":" in cell:
        module, _, attribute = cell.partition(":")
        if not module or not attribute:
            raise ValueError(
                f"{fn}: cannot load the cell {cell!r}: name it 'package.module:NAME', a module "
                f"and the Cell's name in it"
            )
        try:
            found = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"{fn}: cannot load the cell {cell!r}: {err}") from None
        if not isinstance(found, Cell):
            raise TypeError(f"{fn}: {cell!r} is a {type(found).__name__}, not a jaxrnn Cell")
        return found
    known = {**CELLS, **RECURRENCES}
    if isinstance(cell, str):
        if cell not in known:
            raise ValueError(
                f"{fn}: unknown cell {cell!r}; the known cells are {sorted(known)} (or "
                f"'package.module:NAME' for one of your own; a linear one's name followed by "
                f"'{SCAN}' runs it on its parallel scan)"
            )
        return known[cell]
    raise TypeError(
        f"{fn}: `cell` must be a cell name ({', '.join(sorted(known))}) or a jaxrnn.Cell; "
        f"got {type(cell).__name__}"
    )


__all__ = [
    "CELLS", "GRU", "GRU_RESET_AFTER", "LRU", "LSTM", "MINGRU", "MINLSTM", "RECURRENCES", "RNN",
    "SCAN", "label", "resolve",
]  # fmt: skip
