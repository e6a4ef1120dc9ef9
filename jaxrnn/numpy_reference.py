"""The documents' algorithms in plain NumPy with Python loops over time: an independent reference.

Nothing here shares code with the JAX implementation: the tests compare jaxrnn against it on
random shapes and values, and the benchmarks time it as the baseline. It follows the documents'
code (the whole-array-maximum softmax aside, which is the per-column one here) and sizes ``dx``
from ``x``, so a ``da`` covering only the first steps works for both cells.

The cell backwards are split where an equation feeds the rest (the RNN's eq. (3), the LSTM's
gates (7)-(10)), and the loops take ``bent``: so that :mod:`jaxrnn.slips` can write each of the
ways learners get them wrong as one edit of the documents' form.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def rnn_cell_forward(xt, a_prev, p):
    a_next = np.tanh(p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"])
    return a_next, softmax(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p)


def rnn_cell_backward(da_next, cache):
    a_next = cache[0]
    return rnn_gradients(da_next * (1 - a_next**2), cache)


def rnn_gradients(dtanh, cache):
    """Eqs. (4)-(8), from the gradient at the pre-activation ``dtanh`` (eq. (3))."""
    a_next, a_prev, xt, p = cache
    return {
        "dxt": p["Wax"].T @ dtanh, "da_prev": p["Waa"].T @ dtanh,
        "dWax": dtanh @ xt.T, "dWaa": dtanh @ a_prev.T,
        "dba": dtanh.sum(axis=1, keepdims=True),
    }  # fmt: skip


def lstm_cell_forward(xt, a_prev, c_prev, p):
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(p["Wf"] @ concat + p["bf"])
    it = sigmoid(p["Wi"] @ concat + p["bi"])
    cct = np.tanh(p["Wc"] @ concat + p["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(p["Wo"] @ concat + p["bo"])
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, c_next, yt_pred, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)


def lstm_cell_backward(da_next, dc_next, cache):
    return lstm_gradients(lstm_gate_gradients(da_next, dc_next, cache), da_next, dc_next, cache)


def lstm_gate_gradients(da_next, dc_next, cache):
    """Eqs. (7)-(10): the gradients at the gates' pre-activations, by the documents' names."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    z = 1 - np.tanh(c_next) ** 2
    return {
        "dot_": da_next * np.tanh(c_next) * ot * (1 - ot),
        "dcct": (dc_next * it + ot * z * it * da_next) * (1 - cct**2),
        "dit": (dc_next * cct + ot * z * cct * da_next) * it * (1 - it),
        "dft": (dc_next * c_prev + ot * z * c_prev * da_next) * ft * (1 - ft),
    }


def lstm_gradients(gates, da_next, dc_next, cache):
    """Eqs. (11)-(21), from the gates' gradients of :func:`lstm_gate_gradients`."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    n_a = a_next.shape[0]
    z = 1 - np.tanh(c_next) ** 2
    concat_t = np.concatenate((a_prev, xt), axis=0).T
    W = {k: p[k] for k in ("Wf", "Wi", "Wc", "Wo")}
    dgates = {"Wf": gates["dft"], "Wi": gates["dit"], "Wc": gates["dcct"], "Wo": gates["dot_"]}
    return {
        "dxt": sum(W[k][:, n_a:].T @ dgates[k] for k in W),
        "da_prev": sum(W[k][:, :n_a].T @ dgates[k] for k in W),
        "dc_prev": dc_next * ft + ot * z * ft * da_next,
        **{key: value for k in W for key, value in (
            (f"d{k}", dgates[k] @ concat_t), (f"db{k[1]}", dgates[k].sum(axis=1, keepdims=True))
        )},
    }  # fmt: skip


def gru_cell_forward(xt, a_prev, p):
    concat = np.concatenate((a_prev, xt), axis=0)
    rt = sigmoid(p["Wr"] @ concat + p["br"])
    ut = sigmoid(p["Wu"] @ concat + p["bu"])
    cct = np.tanh(p["Wc"] @ np.concatenate((rt * a_prev, xt), axis=0) + p["bc"])
    a_next = ut * cct + (1 - ut) * a_prev
    return a_next, softmax(p["Wy"] @ a_next + p["by"]), (a_next, a_prev, rt, ut, cct, xt, p)


def gru_cell_backward(da_next, cache):
    # written gate by gate, in a different order from jaxrnn.gru, as an independent check
    a_next, a_prev, rt, ut, cct, xt, p = cache
    n_a = a_prev.shape[0]
    Wc_a, Wc_x = p["Wc"][:, :n_a], p["Wc"][:, n_a:]
    dz_c = da_next * ut * (1 - cct**2)
    dz_u = da_next * (cct - a_prev) * ut * (1 - ut)
    d_ra = Wc_a.T @ dz_c
    dz_r = d_ra * a_prev * rt * (1 - rt)
    da_prev = (
        da_next * (1 - ut) + d_ra * rt
        + p["Wu"][:, :n_a].T @ dz_u + p["Wr"][:, :n_a].T @ dz_r
    )  # fmt: skip
    dxt = Wc_x.T @ dz_c + p["Wu"][:, n_a:].T @ dz_u + p["Wr"][:, n_a:].T @ dz_r
    ax = np.concatenate((a_prev, xt), axis=0).T
    rax = np.concatenate((rt * a_prev, xt), axis=0).T
    return {
        "dxt": dxt, "da_prev": da_prev,
        "dWr": dz_r @ ax, "dbr": dz_r.sum(axis=1, keepdims=True),
        "dWu": dz_u @ ax, "dbu": dz_u.sum(axis=1, keepdims=True),
        "dWc": dz_c @ rax, "dbc": dz_c.sum(axis=1, keepdims=True),
    }  # fmt: skip


def gru_reset_after_cell_forward(xt, a_prev, p):
    gates = np.concatenate((a_prev, xt), axis=0)
    rt = sigmoid(p["Wr"] @ gates + p["br"])
    ut = sigmoid(p["Wu"] @ gates + p["bu"])
    hh = p["Wcc"] @ a_prev + p["bcc"]
    cct = np.tanh(p["Wcx"] @ xt + p["bcx"] + rt * hh)
    a_next = ut * cct + (1 - ut) * a_prev
    cache = (a_next, a_prev, rt, ut, cct, hh, xt, p)
    return a_next, softmax(p["Wy"] @ a_next + p["by"]), cache


def gru_reset_after_cell_backward(da_next, cache):
    # the candidate first, then each gate, then what each of them reads
    a_next, a_prev, rt, ut, cct, hh, xt, p = cache
    n_a = a_prev.shape[0]
    dz_c = da_next * ut * (1 - cct**2)
    dz_u = da_next * (cct - a_prev) * ut * (1 - ut)
    dz_r = dz_c * hh * rt * (1 - rt)
    gates = np.concatenate((a_prev, xt), axis=0).T
    return {
        "dxt": p["Wcx"].T @ dz_c + p["Wu"][:, n_a:].T @ dz_u + p["Wr"][:, n_a:].T @ dz_r,
        "da_prev": da_next * (1 - ut) + p["Wcc"].T @ (dz_c * rt)
        + p["Wu"][:, :n_a].T @ dz_u + p["Wr"][:, :n_a].T @ dz_r,
        "dWr": dz_r @ gates, "dbr": dz_r.sum(axis=1, keepdims=True),
        "dWu": dz_u @ gates, "dbu": dz_u.sum(axis=1, keepdims=True),
        "dWcc": (dz_c * rt) @ a_prev.T, "dbcc": (dz_c * rt).sum(axis=1, keepdims=True),
        "dWcx": dz_c @ xt.T, "dbcx": dz_c.sum(axis=1, keepdims=True),
    }  # fmt: skip


def _loop_forward(cell_forward, n_state, x, a0, p, Wy, *, bent=()):
    """The documents' forward loop: every state after the first starts at zeros.

    ``bent`` names ways learners bend it (:mod:`jaxrnn.slips`): ``"a0 at every step"``,
    ``"a from zeros"``, ``"c from a0"``, ``"c is a"`` (one array for both).
    """
    n_x, m, T_x = x.shape
    n_y, n_a = p[Wy].shape
    states = [np.zeros((n_a, m, T_x)) for _ in range(n_state)]
    if "c is a" in bent:
        states[1] = states[0]
    y_pred, caches = np.zeros((n_y, m, T_x)), []
    state = [np.zeros((n_a, m)) if "a from zeros" in bent else a0]
    state += [a0 if "c from a0" in bent else np.zeros((n_a, m)) for _ in range(n_state - 1)]
    for t in range(T_x):
        if "a0 at every step" in bent:
            state[0] = a0
        *state, y_pred[:, :, t], cache = cell_forward(x[:, :, t], *state, p)
        for stacked, s in zip(states, state, strict=True):
            stacked[:, :, t] = s
        caches.append(cache)
    return states, y_pred, (caches, x)


def _loop_backward(cell_backward, n_state, keys, da, caches, *, bent=()):
    """The documents' reverse loop, dx sized from x: steps after da's get no gradient.

    ``bent`` names ways learners bend it (:mod:`jaxrnn.slips`): ``"a not carried"`` and
    ``"c not carried"`` (the step's gradient from step t + 1 left out), ``"overwritten"`` (the
    parameters' gradients assigned instead of summed), ``"da summed once"`` (the hidden
    states' gradients of all steps summed into the carry before the loop).
    """
    caches, x = caches
    g = {"dx": np.zeros(x.shape), **{k: 0.0 for k in keys}}
    dstate = [np.zeros(da.shape[:2]) for _ in range(n_state)]
    if "da summed once" in bent:
        dstate[0] = da.sum(axis=2)
    for t in reversed(range(da.shape[2])):
        upstream = 0 if "da summed once" in bent else da[:, :, t]
        step = cell_backward(upstream + dstate[0], *dstate[1:], caches[t])
        dstate = [step[k] for k in ("da_prev", "dc_prev")[:n_state]]
        if "a not carried" in bent:
            dstate[0] = np.zeros_like(dstate[0])
        if "c not carried" in bent and n_state > 1:
            dstate[1] = np.zeros_like(dstate[1])
        g["dx"][:, :, t] = step["dxt"]
        g |= {k: step[k] if "overwritten" in bent else g[k] + step[k] for k in keys}
    da0 = step["da_prev"] if "a not carried" in bent else dstate[0]
    return {"dx": g["dx"], "da0": da0, **{k: g[k] for k in keys}}


def rnn_forward(x, a0, p, *, bent=()):
    (a,), y_pred, caches = _loop_forward(rnn_cell_forward, 1, x, a0, p, "Wya", bent=bent)
    return a, y_pred, caches


def rnn_backward(da, caches, *, bent=(), cell_backward=None):
    keys = ("dWax", "dWaa", "dba")
    return _loop_backward(cell_backward or rnn_cell_backward, 1, keys, da, caches, bent=bent)


def lstm_forward(x, a0, p, *, bent=()):
    (a, c), y, caches = _loop_forward(lstm_cell_forward, 2, x, a0, p, "Wy", bent=bent)
    return a, y, c, caches


def lstm_backward(da, caches, *, bent=(), cell_backward=None):
    keys = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
    return _loop_backward(cell_backward or lstm_cell_backward, 2, keys, da, caches, bent=bent)


def gru_forward(x, a0, p):
    (a,), y_pred, caches = _loop_forward(gru_cell_forward, 1, x, a0, p, "Wy")
    return a, y_pred, caches


def gru_backward(da, caches):
    keys = ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc")
    return _loop_backward(gru_cell_backward, 1, keys, da, caches)


def gru_reset_after_forward(x, a0, p):
    (a,), y_pred, caches = _loop_forward(gru_reset_after_cell_forward, 1, x, a0, p, "Wy")
    return a, y_pred, caches


def gru_reset_after_backward(da, caches):
    keys = ("dWr", "dbr", "dWu", "dbu", "dWcc", "dbcc", "dWcx", "dbcx")
    return _loop_backward(gru_reset_after_cell_backward, 1, keys, da, caches)
