import numpy as np


def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_x, m = xt.shape
    n_a, m = a_next.shape
    Wf, Wi, Wc, Wo = (parameters[k] for k in ("Wf", "Wi", "Wc", "Wo"))
    dot_ = da_next * np.tanh(c_next) * ot * (1 - ot)
    dcct = (dc_next * it + ot * (1 - np.tanh(c_next) ** 2) * it * da_next) * (1 - cct**2)
    dit = (dc_next * cct + ot * (1 - np.tanh(c_next) ** 2) * cct * da_next) * it * (1 - it)
    dft = dc_next * c_prev + ot * (1 - np.tanh(c_next) ** 2) * c_prev * da_next
    concat = np.concatenate((a_prev, xt), axis=0).T
    dWf, dWi, dWc, dWo = (
        np.dot(dft, concat),
        np.dot(dit, concat),
        np.dot(dcct, concat),
        np.dot(dot_, concat),
    )
    dbf = np.sum(dft, axis=1, keepdims=True)
    dbi = np.sum(dit, axis=1, keepdims=True)
    dbc = np.sum(dcct, axis=1, keepdims=True)
    dbo = np.sum(dot_, axis=1, keepdims=True)
    da_prev = (
        Wf[:, :n_a].T.dot(dft)
        + Wi[:, :n_a].T.dot(dit)
        + Wc[:, :n_a].T.dot(dcct)
        + Wo[:, :n_a].T.dot(dot_)
    )
    dc_prev = dc_next * ft + ot * (1 - np.square(np.tanh(c_next))) * ft * da_next
    dxt = (
        Wf[:, n_a:].T.dot(dft)
        + Wi[:, n_a:].T.dot(dit)
        + Wc[:, n_a:].T.dot(dcct)
        + Wo[:, n_a:].T.dot(dot_)
    )
    return {
        "dxt": dxt,
        "da_prev": da_prev,
        "dc_prev": dc_prev,
        "dWf": dWf,
        "dbf": dbf,
        "dWi": dWi,
        "dbi": dbi,
        "dWc": dWc,
        "dbc": dbc,
        "dWo": dWo,
        "dbo": dbo,
    }
