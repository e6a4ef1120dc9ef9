"""jaxrnn: recurrent networks in JAX, hand-derived backward passes beside automatic differentiation.

The public API keeps the two step-by-step documents' names, arguments, shapes, returned tuples
and dictionary keys, so their code and test cells run against jaxrnn unchanged. A cell of your
own is a :class:`Cell` built from its two documents-style functions.
"""

from jaxrnn import cells
from jaxrnn.activations import sigmoid, softmax
from jaxrnn.caches import SequenceCache
from jaxrnn.cell import Cell, FastPath
from jaxrnn.gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from jaxrnn.gru_reset_after import (
    gru_reset_after_backward,
    gru_reset_after_cell_backward,
    gru_reset_after_cell_forward,
    gru_reset_after_forward,
)
from jaxrnn.lstm import lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from jaxrnn.rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__version__ = "0.1.0"

__all__ = [
    "Cell",
    "FastPath",
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
