"""Saved by an editor that writes UTF-8 with a byte order mark: « é »."""

import numpy as np
from rnn_utils import softmax


def rnn_cell_forward(xt, a_prev, parameters):
    a_next = np.tanh(parameters["Wax"] @ xt + parameters["Waa"] @ a_prev + parameters["ba"])
    return a_next, softmax(parameters["Wya"] @ a_next + parameters["by"]), (a_next, a_prev, xt,
                                                                            parameters)
