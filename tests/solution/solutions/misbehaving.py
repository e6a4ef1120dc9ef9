"""A solution whose code does what learners' code does: prints, raises, exits, loops."""

import sys

import numpy as np

for i in range(200):
    print("exploring", i)


def rnn_cell_forward(xt, a_prev, parameters):
    while True:  # never returns
        pass


def rnn_forward(x, a0, parameters):
    sys.exit("giving up")


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    import os

    os._exit(3)  # ends the process at once


def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    dot_ = da_next * np.tanh(c_next) * ot * (1 - ot)
    return {"dxt": Wo.T.dot(dot_)}  # noqa: F821 - Wo was never read from the parameters


def rnn_cell_backward(da_next, cache):
    print("called")
    return "not a dictionary"
