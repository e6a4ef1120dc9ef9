"""jaxrnn: recurrent networks in JAX, hand-derived backward passes beside automatic differentiation.

The public API keeps the two step-by-step documents' names, arguments, shapes, returned tuples
and dictionary keys, so their code and test cells run against jaxrnn unchanged. A cell of your
own is a :class:`Cell` built from its two documents-style functions.
"""

import importlib
import importlib.abc
import importlib.util
import sys

from jaxrnn import cells
from jaxrnn._core.caches import SequenceCache
from jaxrnn._core.cell import Cell, FastPath
from jaxrnn._core.output import Output
from jaxrnn.activations import sigmoid, softmax
from jaxrnn.cells.gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from jaxrnn.cells.gru_reset_after import (
    gru_reset_after_backward,
    gru_reset_after_cell_backward,
    gru_reset_after_cell_forward,
    gru_reset_after_forward,
)
from jaxrnn.cells.lstm import lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from jaxrnn.cells.rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__version__ = "0.1.0"

__all__ = [
    "Cell",
    "FastPath",
    "Output",
    "SequenceCache",
    "cells",
    "gru_backward",
    "gru_cell_backward",
    "gru_cell_forward",
    "gru_forward",
    "gru_reset_after_backward",
    "gru_reset_after_cell_backward",
    "gru_reset_after_cell_forward",
    "gru_reset_after_forward",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "rnn_backward",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "rnn_forward",
    "sigmoid",
    "softmax",
]


#: modules that moved into the wings, under their old names: ``import jaxrnn.eqx`` and
#: ``from jaxrnn import charlm`` go on working, as the moved module itself
MOVED = {
    "cell": "jaxrnn._core.cell",
    "caches": "jaxrnn._core.caches",
    "unroll": "jaxrnn._core.unroll",
    "lengths": "jaxrnn._core.lengths",
    "rnn": "jaxrnn.cells.rnn",
    "lstm": "jaxrnn.cells.lstm",
    "gru": "jaxrnn.cells.gru",
    "gru_reset_after": "jaxrnn.cells.gru_reset_after",
    "tolerances": "jaxrnn.gradcheck.tolerances",
    "where": "jaxrnn.gradcheck.where",
    "exercises": "jaxrnn.course.exercises",
    "numpy_reference": "jaxrnn.course.reference",
    "slips": "jaxrnn.course.slips",
    "eqx": "jaxrnn.interop.eqx",
    "nnx": "jaxrnn.interop.nnx",
    "weights": "jaxrnn.interop.weights",
    "charlm": "jaxrnn.demo.charlm",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``jaxrnn.<old name>`` of :data:`MOVED` as the module it moved to (one module
    object under both names); asked only for names no other finder knows."""

    def find_spec(self, name, path=None, target=None):
        old = name.removeprefix("jaxrnn.")
        if name.startswith("jaxrnn.") and old in MOVED:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name.removeprefix("jaxrnn.")])

    def exec_module(self, module):
        pass


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str):
    if name in MOVED:
        return importlib.import_module(f"jaxrnn.{name}")
    raise AttributeError(f"module 'jaxrnn' has no attribute {name!r}")
