"""Backwards computed in float32: one returns float32 arrays, one casts them back to float64."""

import numpy as np

from correct import lstm_cell_backward as right_lstm_cell_backward
from correct import rnn_cell_backward as right_rnn_cell_backward


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    single = {k: v.astype(np.float32) for k, v in parameters.items()}
    cache = (a_next.astype(np.float32), a_prev.astype(np.float32), xt.astype(np.float32), single)
    return right_rnn_cell_backward(da_next.astype(np.float32), cache)


def lstm_cell_backward(da_next, dc_next, cache):
    *arrays, parameters = cache
    single = {k: v.astype(np.float32) for k, v in parameters.items()}
    cache = (*(v.astype(np.float32) for v in arrays), single)
    gradients = right_lstm_cell_backward(da_next.astype(np.float32),
                                         dc_next.astype(np.float32), cache)
    return {k: v.astype(np.float64) for k, v in gradients.items()}
