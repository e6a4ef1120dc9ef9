import numpy as np


def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a = a_next.shape[0]
    dtanh_c = 1 - np.tanh(c_next) ** 2
    gates = {
        "o": da_next * np.tanh(c_next) * ot * (1 - ot),
        "c": (dc_next * it + ot * dtanh_c * it * da_next) * (1 - cct**2),
        "i": (dc_next * cct + ot * dtanh_c * cct * da_next) * it * (1 - it),
        "f": (dc_next * c_prev + ot * dtanh_c * c_prev * da_next) * ft * (1 - ft),
    }
    concat = np.concatenate((a_prev, xt), axis=0)
    gradients = {"dxt": 0, "da_prev": 0}
    for g, d in gates.items():
        W = parameters["W" + g]
        gradients["dxt"] = gradients["dxt"] + W[:, n_a:].T @ d
        gradients["da_prev"] = gradients["da_prev"] + W[:, :n_a].T @ d
        gradients["dW" + g] = d @ concat.T
        gradients["db" + g] = np.mean(d, axis=1, keepdims=True)
    gradients["dc_prev"] = dc_next * ft + ot * dtanh_c * ft * da_next
    return gradients
