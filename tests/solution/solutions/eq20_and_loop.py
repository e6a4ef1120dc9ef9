"""The report page's example: lstm_cell_backward written in the documents' form with eq. (20)
missing its second factor ft, and lstm_backward over it whose loop carries nothing from step
t+1 to step t."""

import numpy as np


def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a, m = a_next.shape
    dtanh_c = 1 - np.tanh(c_next) ** 2
    dot_ = da_next * np.tanh(c_next) * ot * (1 - ot)  # eq (7)
    dcct = (dc_next * it + ot * dtanh_c * it * da_next) * (1 - cct**2)  # eq (8)
    dit = (dc_next * cct + ot * dtanh_c * cct * da_next) * it * (1 - it)  # eq (9)
    dft = (dc_next * c_prev + ot * dtanh_c * c_prev * da_next) * ft * (1 - ft)  # eq (10)
    concat = np.concatenate((a_prev, xt), axis=0)
    dWf = dft @ concat.T
    dWi = dit @ concat.T
    dWc = dcct @ concat.T
    dWo = dot_ @ concat.T
    dbf = np.sum(dft, axis=1, keepdims=True)
    dbi = np.sum(dit, axis=1, keepdims=True)
    dbc = np.sum(dcct, axis=1, keepdims=True)
    dbo = np.sum(dot_, axis=1, keepdims=True)
    Wf, Wi, Wc, Wo = (parameters[k] for k in ("Wf", "Wi", "Wc", "Wo"))
    da_prev = Wf[:, :n_a].T @ dft + Wi[:, :n_a].T @ dit + Wc[:, :n_a].T @ dcct + Wo[:, :n_a].T @ dot_
    dc_prev = dc_next * ft + ot * dtanh_c * da_next
    dxt = Wf[:, n_a:].T @ dft + Wi[:, n_a:].T @ dit + Wc[:, n_a:].T @ dcct + Wo[:, n_a:].T @ dot_
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf,
            "dWi": dWi, "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}


def lstm_backward(da, caches):
    (caches, x) = caches
    n_a, m, T_x = da.shape
    dx = np.zeros(x.shape)
    keys = ["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]
    sums = {k: 0 for k in keys}
    da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        for k in keys:
            sums[k] = sums[k] + gradients[k]
    da0 = gradients["da_prev"]
    return {"dx": dx, "da0": da0, **sums}
