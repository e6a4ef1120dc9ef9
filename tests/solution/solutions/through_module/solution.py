"""rnn_forward calling its cell through the module that holds it, feeding a0 at every step; and
one that reaches its cell through a default argument, which no swap can follow."""

import cells
import numpy as np


def rnn_forward(x, a0, parameters):
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a, y_pred = np.zeros((n_a, m, T_x)), np.zeros((n_y, m, T_x))
    for t in range(T_x):
        a_next, yt_pred, cache = cells.rnn_cell_forward(x[:, :, t], a0, parameters)
        a[:, :, t], y_pred[:, :, t] = a_next, yt_pred
        caches.append(cache)
    return a, y_pred, (caches, x)


def _through_a_default(x, a0, parameters, cell=cells.rnn_cell_forward):
    caches = []
    n_y, n_a = parameters["Wya"].shape
    a, y_pred = np.zeros((n_a, *x.shape[1:])), np.zeros((n_y, *x.shape[1:]))
    for t in range(x.shape[2]):
        a_next, yt_pred, cache = cell(x[:, :, t], a0, parameters)
        a[:, :, t], y_pred[:, :, t] = a_next, yt_pred
        caches.append(cache)
    return a, y_pred, (caches, x)
