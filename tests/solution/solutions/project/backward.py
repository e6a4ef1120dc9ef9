"""The backward half: it takes rnn_cell_forward from forward.py, and gets dx wrong at one step."""

import numpy as np
from forward import rnn_cell_forward  # noqa: F401 - what a learner's module would import


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    d = da_next * (1.0 - np.square(a_next))
    gradients = dict(dxt=parameters["Wax"].T.dot(d), da_prev=parameters["Waa"].T.dot(d))
    gradients.update(dWax=d.dot(xt.T), dWaa=d.dot(a_prev.T), dba=d.sum(axis=1).reshape(-1, 1))
    return gradients


def rnn_backward(da, caches):
    step_caches, x = caches
    dx = np.zeros_like(x)
    total = {"dWax": 0.0, "dWaa": 0.0, "dba": 0.0}
    carried = np.zeros_like(da[:, :, 0])
    T = da.shape[2]
    for t in range(T - 1, -1, -1):
        g = rnn_cell_backward(da[:, :, t] + carried, step_caches[t])
        carried = g["da_prev"]
        dx[:, :, t] = g["dxt"] if t != 1 else 2 * g["dxt"]  # a slip no catalogue has
        for k in total:
            total[k] = total[k] + g[k]
    return {"dx": dx, "da0": carried, **total}
