"""Cell backwards wrong in ways no slip of the catalogue is: zeros for dxt and da_prev, and the
weights' gradients where eqs. (19) and (21) take the weights."""

import numpy as np


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    dtanh = da_next * (1 - a_next**2)
    return {"dxt": np.zeros_like(xt), "da_prev": np.zeros_like(a_prev),
            "dWax": dtanh @ xt.T, "dWaa": dtanh @ a_prev.T,
            "dba": np.sum(dtanh, axis=1, keepdims=True)}


def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a = a_next.shape[0]
    dtanh_c = 1 - np.tanh(c_next) ** 2
    dot = da_next * np.tanh(c_next) * ot * (1 - ot)
    dcct = (dc_next * it + ot * dtanh_c * it * da_next) * (1 - cct**2)
    dit = (dc_next * cct + ot * dtanh_c * cct * da_next) * it * (1 - it)
    dft = (dc_next * c_prev + ot * dtanh_c * c_prev * da_next) * ft * (1 - ft)
    concat = np.concatenate((a_prev, xt), axis=0)
    dWf, dWi, dWc, dWo = (d @ concat.T for d in (dft, dit, dcct, dot))
    dbf, dbi, dbc, dbo = (np.sum(d, axis=1, keepdims=True) for d in (dft, dit, dcct, dot))
    # the gradients where the weights belong
    da_prev = (dWf[:, :n_a].T @ dft + dWi[:, :n_a].T @ dit + dWc[:, :n_a].T @ dcct
               + dWo[:, :n_a].T @ dot)
    dxt = dWf[:, n_a:].T @ dft + dWi[:, n_a:].T @ dit + dWc[:, n_a:].T @ dcct + dWo[:, n_a:].T @ dot
    dc_prev = dc_next * ft + ot * dtanh_c * ft * da_next
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf,
            "dWi": dWi, "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}
