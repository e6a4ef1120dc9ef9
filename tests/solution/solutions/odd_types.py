"""Backwards returning what is not an array of real numbers: Python objects, strings, complex
values, lists, a dictionary missing a key and holding one more."""

import numpy as np

from correct import lstm_cell_backward as right_lstm_cell_backward
from correct import rnn_cell_backward as right_rnn_cell_backward


def rnn_cell_forward(xt, a_prev, parameters):
    from correct import rnn_cell_forward as right

    a_next, yt_pred, cache = right(xt, a_prev, parameters)
    return a_next + 0.25j, yt_pred, cache


def rnn_cell_backward(da_next, cache):
    gradients = right_rnn_cell_backward(da_next, cache)
    gradients["dba"] = gradients["dba"].astype(object)
    return gradients


def lstm_cell_backward(da_next, dc_next, cache):
    gradients = right_lstm_cell_backward(da_next, dc_next, cache)
    gradients["dbf"] = gradients["dbf"].astype(str)
    gradients["dbi"] = gradients["dbi"].tolist()  # right, as nested lists
    gradients["dbc"] = 2.0
    del gradients["dbo"]
    gradients["extra"] = "something"
    return gradients
