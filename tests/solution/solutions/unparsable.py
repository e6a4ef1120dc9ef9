"""A file saved mid-edit: it does not parse, so none of its functions can run."""

import numpy as np


def rnn_cell_forward(xt, a_prev, parameters):
    a_next = np.tanh(parameters["Wax"] @ xt + parameters["Waa"] @ a_prev + parameters["ba"]
    return a_next


def rnn_forward(x, a0, parameters):
    return None
