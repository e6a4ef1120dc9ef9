"""The documents' algorithms in plain NumPy with Python loops over time: an independent reference.

Nothing here shares code with the JAX implementation: the tests compare jaxrnn against it on
random shapes and values, and the benchmarks time it as the baseline. It follows the documents'
code (the whole-array-maximum softmax aside, which is the per-column one here) and sizes ``dx``
from ``x``, so a ``da`` covering only the first steps works for both cells.

The cell backwards are split where an equation feeds the rest (the RNN's eq. (3), the LSTM's
gates (7)-(10)), and the loops are :class:`Forward` and :class:`Backward`, whose every choice
is a small function: so that :mod:`jaxrnn.course.slips` can write each of the ways learners get them
wrong as one edit of the documents' form. A cell backward checks that it is given one step's
cache (:class:`NotAStepCache` otherwise), so that a loop handing it the wrong thing is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class NotAStepCache(TypeError):
    """A cell backward given something other than one step's cache."""


def _step_cache(cache, fields: int):
    """``cache``, if it is one step's: a tuple (or list) of ``fields`` ending with the
    parameters; :class:`NotAStepCache` saying what it is otherwise."""
    if isinstance(cache, (tuple, list)) and len(cache) == fields and isinstance(cache[-1], dict):
        return cache
    raise NotAStepCache(f"its cache argument is {_described(cache)}, not one step's cache")


def _described(value) -> str:
    """``a list of 4 step caches``, ``a tuple of 2``: what a value is, in a few words."""
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if value and all(isinstance(v, (tuple, list)) for v in value):
            return f"a {kind} of {len(value)} step caches"
        return f"a {kind} of {len(value)}"
    return f"a {type(value).__name__}"


def sigmoid(x):
    """The logistic function, elementwise."""
    return 1 / (1 + np.exp(-x))


def softmax(x):
    """The softmax of each column, each shifted by its own maximum."""
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def rnn_cell_forward(xt, a_prev, parameters):
    """The RNN document's cell forward: eq. (1) and the prediction."""
    p = parameters
    a_next = np.tanh(p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"])
    return a_next, softmax(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt, p)


def rnn_cell_backward(da_next, cache):
    """The RNN document's cell backward, eqs. (2)-(8)."""
    a_next = _step_cache(cache, 4)[0]
    return rnn_gradients(da_next * (1 - a_next**2), cache)


def rnn_gradients(dtanh, cache):
    """Eqs. (4)-(8), from the gradient at the pre-activation ``dtanh`` (eq. (3))."""
    a_next, a_prev, xt, p = cache
    return {
        "dxt": p["Wax"].T @ dtanh, "da_prev": p["Waa"].T @ dtanh,
        "dWax": dtanh @ xt.T, "dWaa": dtanh @ a_prev.T,
        "dba": dtanh.sum(axis=1, keepdims=True),
    }  # fmt: skip


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """The LSTM document's cell forward: eqs. (1)-(6) and the prediction."""
    p = parameters
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
    """The LSTM document's cell backward, eqs. (7)-(21)."""
    _step_cache(cache, 10)
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


def gru_cell_forward(xt, a_prev, parameters):
    """The course's GRU cell forward, (G1)-(G5)."""
    p = parameters
    concat = np.concatenate((a_prev, xt), axis=0)
    rt = sigmoid(p["Wr"] @ concat + p["br"])
    ut = sigmoid(p["Wu"] @ concat + p["bu"])
    cct = np.tanh(p["Wc"] @ np.concatenate((rt * a_prev, xt), axis=0) + p["bc"])
    a_next = ut * cct + (1 - ut) * a_prev
    return a_next, softmax(p["Wy"] @ a_next + p["by"]), (a_next, a_prev, rt, ut, cct, xt, p)


def gru_cell_backward(da_next, cache):
    """The course's GRU cell backward, (G6)-(G18)."""
    # written gate by gate, in a different order from jaxrnn.cells.gru, as an independent check
    a_next, a_prev, rt, ut, cct, xt, p = _step_cache(cache, 7)
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


def gru_reset_after_cell_forward(xt, a_prev, parameters):
    """The reset-after GRU's cell forward, (R1)-(R5)."""
    p = parameters
    gates = np.concatenate((a_prev, xt), axis=0)
    rt = sigmoid(p["Wr"] @ gates + p["br"])
    ut = sigmoid(p["Wu"] @ gates + p["bu"])
    hh = p["Wcc"] @ a_prev + p["bcc"]
    cct = np.tanh(p["Wcx"] @ xt + p["bcx"] + rt * hh)
    a_next = ut * cct + (1 - ut) * a_prev
    cache = (a_next, a_prev, rt, ut, cct, hh, xt, p)
    return a_next, softmax(p["Wy"] @ a_next + p["by"]), cache


def gru_reset_after_cell_backward(da_next, cache):
    """The reset-after GRU's cell backward, (R6)-(R19)."""
    # the candidate first, then each gate, then what each of them reads
    a_next, a_prev, rt, ut, cct, hh, xt, p = _step_cache(cache, 8)
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


def _zeros(n_state: int, shape) -> list:
    return [np.zeros(shape) for _ in range(n_state)]


@dataclass(frozen=True)
class Forward:
    """The documents' forward loop, each of its choices a function that a slip may replace
    (:mod:`jaxrnn.course.slips`).

    Attributes:
        arrays: ``(n_state, shape)`` -> the arrays the states are stored in, zeros.
        first: ``(a0, arrays)`` -> the states entering the first step: ``a0``, then zeros.
        entering: ``(t, states, a0, arrays)`` -> the states step ``t`` is given: the last
            step's.
        steps: ``T_x`` -> the steps, in order: all of them.
    """

    arrays: Callable = _zeros
    first: Callable = lambda a0, arrays: [a0, *(np.zeros(a0.shape) for _ in arrays[1:])]
    entering: Callable = lambda t, states, a0, arrays: states
    steps: Callable = range


@dataclass(frozen=True)
class Backward:
    """The documents' reverse loop, each of its choices a function that a slip may replace
    (:mod:`jaxrnn.course.slips`); ``dx`` sized from ``x``, steps after ``da``'s get no gradient.

    Attributes:
        steps: ``T_da`` -> the steps, in order: the last first.
        first: ``(da, n_state)`` -> the gradients carried into the last step: zeros.
        upstream: ``(da, t)`` -> what step ``t``'s cell backward gets besides the carried
            hidden-state gradient: ``da[:, :, t]``.
        carried: ``(step, n_state)`` -> the gradients step ``t`` hands to step ``t - 1``:
            ``da_prev`` (and ``dc_prev``).
        summed: ``(total, step)`` -> a parameter's gradient after a step: summed over them.
        da0: ``(carried, step)`` -> ``da0`` after the loop: the carried ``da_prev``.
    """

    steps: Callable = lambda T: reversed(range(T))
    first: Callable = lambda da, n_state: _zeros(n_state, da.shape[:2])
    upstream: Callable = lambda da, t: da[:, :, t]
    carried: Callable = lambda step, n_state: [step[k] for k in ("da_prev", "dc_prev")[:n_state]]
    summed: Callable = lambda total, step: total + step
    da0: Callable = lambda carried, step: carried[0]


def _loop_forward(cell_forward, n_state, x, a0, p, Wy, loop: Forward = Forward()):
    """The documents' forward loop: every state after the first starts at zeros."""
    n_x, m, T_x = x.shape
    n_y, n_a = p[Wy].shape
    arrays = loop.arrays(n_state, (n_a, m, T_x))
    y_pred, caches = np.zeros((n_y, m, T_x)), []
    state = loop.first(a0, arrays)
    for t in loop.steps(T_x):
        state = loop.entering(t, state, a0, arrays)
        *state, y_pred[:, :, t], cache = cell_forward(x[:, :, t], *state, p)
        for stacked, s in zip(arrays, state, strict=True):
            stacked[:, :, t] = s
        caches.append(cache)
    return arrays, y_pred, (caches, x)


def loop_backward(cell_backward, n_state, keys, da, caches, loop: Backward = Backward()):
    """The documents' reverse loop over ``cell_backward``, dx sized from x: steps after da's
    get no gradient; ``keys`` the parameters' gradients, summed over the steps."""
    caches, x = caches
    p = caches[0][-1]
    g = {"dx": np.zeros(x.shape), **{k: np.zeros(np.shape(p[k[1:]])) for k in keys}}
    carried, step = loop.first(da, n_state), None
    for t in loop.steps(da.shape[2]):
        step = cell_backward(loop.upstream(da, t) + carried[0], *carried[1:], caches[t])
        carried = loop.carried(step, n_state)
        g["dx"][:, :, t] = step["dxt"]
        g |= {k: loop.summed(g[k], step[k]) for k in keys}
    return {"dx": g["dx"], "da0": loop.da0(carried, step), **{k: g[k] for k in keys}}


def rnn_forward(x, a0, parameters, *, loop: Forward = Forward()):
    """The RNN document's sequence forward, its loop over time."""
    (a,), y_pred, caches = _loop_forward(rnn_cell_forward, 1, x, a0, parameters, "Wya", loop)
    return a, y_pred, caches


def rnn_backward(da, caches, *, loop: Backward = Backward(), cell_backward=None):
    """The RNN document's sequence backward, its loop over time backwards."""
    keys = ("dWax", "dWaa", "dba")
    return loop_backward(cell_backward or rnn_cell_backward, 1, keys, da, caches, loop)


def lstm_forward(x, a0, parameters, *, loop: Forward = Forward()):
    """The LSTM document's sequence forward, its loop over time."""
    (a, c), y, caches = _loop_forward(lstm_cell_forward, 2, x, a0, parameters, "Wy", loop)
    return a, y, c, caches


def lstm_backward(da, caches, *, loop: Backward = Backward(), cell_backward=None):
    """The LSTM document's sequence backward, its loop over time backwards."""
    keys = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
    return loop_backward(cell_backward or lstm_cell_backward, 2, keys, da, caches, loop)


def gru_forward(x, a0, p):
    """The course's GRU over a sequence, in the documents' loop."""
    (a,), y_pred, caches = _loop_forward(gru_cell_forward, 1, x, a0, p, "Wy")
    return a, y_pred, caches


def gru_backward(da, caches):
    """The course's GRU's sequence backward, in the documents' loop."""
    keys = ("dWr", "dbr", "dWu", "dbu", "dWc", "dbc")
    return loop_backward(gru_cell_backward, 1, keys, da, caches)


def gru_reset_after_forward(x, a0, p):
    """The reset-after GRU over a sequence, in the documents' loop."""
    (a,), y_pred, caches = _loop_forward(gru_reset_after_cell_forward, 1, x, a0, p, "Wy")
    return a, y_pred, caches


def gru_reset_after_backward(da, caches):
    """The reset-after GRU's sequence backward, in the documents' loop."""
    keys = ("dWr", "dbr", "dWu", "dbu", "dWcc", "dbcc", "dWcx", "dbcx")
    return loop_backward(gru_reset_after_cell_backward, 1, keys, da, caches)


__all__ = [
    "Backward", "Forward", "NotAStepCache", "gru_backward", "gru_cell_backward",
    "gru_cell_forward", "gru_forward", "gru_reset_after_backward", "gru_reset_after_cell_backward",
    "gru_reset_after_cell_forward", "gru_reset_after_forward", "loop_backward", "lstm_backward",
    "lstm_cell_backward", "lstm_cell_forward", "lstm_forward", "lstm_gate_gradients",
    "lstm_gradients", "rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward",
    "rnn_gradients", "sigmoid", "softmax"
]  # fmt: skip
