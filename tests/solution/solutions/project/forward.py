"""The forward half of a solution split over two modules (backward.py imports this one)."""

import numpy as np

import rnn_utils


def rnn_cell_forward(xt, a_prev, parameters):
    z = parameters["Wax"].dot(xt) + parameters["Waa"].dot(a_prev) + parameters["ba"]
    a_next = np.tanh(z)
    return (
        a_next,
        rnn_utils.softmax(parameters["Wya"].dot(a_next) + parameters["by"]),
        (a_next, a_prev, xt, parameters),
    )


def rnn_forward(x, a0, parameters):
    steps = x.shape[2]
    outputs = [None] * steps
    a_t = a0
    for t in range(steps):
        a_t, y_t, cache_t = rnn_cell_forward(x[..., t], a_t, parameters)
        outputs[t] = (a_t, y_t, cache_t)
    a = np.stack([o[0] for o in outputs], axis=-1)
    y_pred = np.stack([o[1] for o in outputs], axis=-1)
    return a, y_pred, ([o[2] for o in outputs], x)
