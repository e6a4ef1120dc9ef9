import numpy as np

from correct import lstm_cell_backward


def lstm_backward(da, caches):
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    (n_a, m, T_x), (n_x, m) = da.shape, x1.shape
    dx = np.zeros(x.shape)
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    dWf, dWi, dWc, dWo = (np.zeros((n_a, n_a + n_x)) for _ in range(4))
    dbf, dbi, dbc, dbo = (np.zeros((n_a, 1)) for _ in range(4))
    for t in reversed(range(T_x)):
        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        # the gradients of step t-1 come from the cache
        dx[:, :, t] = gradients["dxt"]
        dWf += gradients["dWf"]
        dbf += gradients["dbf"]
        dWi += gradients["dWi"]
        dbi += gradients["dbi"]
        dWc += gradients["dWc"]
        dbc += gradients["dbc"]
        dWo += gradients["dWo"]
        dbo += gradients["dbo"]
    da0 = gradients["da_prev"]
    return {
        "dx": dx,
        "da0": da0,
        "dWf": dWf,
        "dbf": dbf,
        "dWi": dWi,
        "dbi": dbi,
        "dWc": dWc,
        "dbc": dbc,
        "dWo": dWo,
        "dbo": dbo,
    }
