r"""The LSTM of the LSTM document: cell and sequence, forward and hand-derived backward.

Forward, for one step, on :math:`[a^{\langle t-1 \rangle}; x^{\langle t \rangle}]` (hidden state
first): the LSTM document's eqs. (1)-(6) and the prediction. Backward, from ``da_next`` and
``dc_next``: eqs. (7)-(21); the output layer is not part of it. ``Wi``/``bi``/``it`` belong to
the update gate, the document's :math:`\Gamma_u` in the backward (``dit`` is its
:math:`d\gamma_u`); :math:`W^T` in eqs. (19) and (21) is the weights' first ``n_a`` columns for
``da_prev`` and the rest for ``dx``. Each equation in the document's form and number;
``jaxrnn check FILE`` cites them from here:

.. math::
    \Gamma_f^{\langle t \rangle} = \sigma(W_f [a^{\langle t-1 \rangle}, x^{\langle t \rangle}] +
        b_f) \tag{1}

    \Gamma_i^{\langle t \rangle} = \sigma(W_i [a^{\langle t-1 \rangle}, x^{\langle t \rangle}] +
        b_i) \tag{2}

    \tilde c^{\langle t \rangle} = \tanh(W_c [a^{\langle t-1 \rangle}, x^{\langle t \rangle}] +
        b_c) \tag{3}

    c^{\langle t \rangle} = \Gamma_f^{\langle t \rangle} * c^{\langle t-1 \rangle} +
        \Gamma_i^{\langle t \rangle} * \tilde c^{\langle t \rangle} \tag{4}

    \Gamma_o^{\langle t \rangle} = \sigma(W_o [a^{\langle t-1 \rangle}, x^{\langle t \rangle}] +
        b_o) \tag{5}

    a^{\langle t \rangle} = \Gamma_o^{\langle t \rangle} * \tanh(c^{\langle t \rangle}) \tag{6}

    y^{\langle t \rangle}_{pred} = \mathrm{softmax}(W_y a^{\langle t \rangle} + b_y)
        \tag{prediction}

    d\gamma_o^{\langle t \rangle} = da_{next} * \tanh(c_{next}) * \Gamma_o^{\langle t \rangle} * (1
        - \Gamma_o^{\langle t \rangle}) \tag{7}

    d\tilde c^{\langle t \rangle} = (dc_{next} * \Gamma_u^{\langle t \rangle} + \Gamma_o^{\langle t
        \rangle} * (1 - \tanh^2(c_{next})) * \Gamma_u^{\langle t \rangle} * da_{next}) * (1 -
        (\tilde c^{\langle t \rangle})^2) \tag{8}

    d\gamma_u^{\langle t \rangle} = (dc_{next} * \tilde c^{\langle t \rangle} + \Gamma_o^{\langle t
        \rangle} * (1 - \tanh^2(c_{next})) * \tilde c^{\langle t \rangle} * da_{next}) *
        \Gamma_u^{\langle t \rangle} * (1 - \Gamma_u^{\langle t \rangle}) \tag{9}

    d\gamma_f^{\langle t \rangle} = (dc_{next} * c_{prev} + \Gamma_o^{\langle t \rangle} * (1 -
        \tanh^2(c_{next})) * c_{prev} * da_{next}) * \Gamma_f^{\langle t \rangle} * (1 -
        \Gamma_f^{\langle t \rangle}) \tag{10}

    dW_f = d\gamma_f^{\langle t \rangle} \begin{bmatrix} a_{prev} \\ x_t \end{bmatrix}^T \tag{11}

        \\
    dW_u = d\gamma_u^{\langle t \rangle} \begin{bmatrix} a_{prev} \\ x_t \end{bmatrix}^T \tag{12}

        \\
    dW_c = d\tilde c^{\langle t \rangle} \begin{bmatrix} a_{prev} \\ x_t \end{bmatrix}^T \tag{13}

        \\
    dW_o = d\gamma_o^{\langle t \rangle} \begin{bmatrix} a_{prev} \\ x_t \end{bmatrix}^T \tag{14}

        \\
    db_f = \sum_{batch} d\gamma_f^{\langle t \rangle} \tag{15}

    db_u = \sum_{batch} d\gamma_u^{\langle t \rangle} \tag{16}

    db_c = \sum_{batch} d\tilde c^{\langle t \rangle} \tag{17}

    db_o = \sum_{batch} d\gamma_o^{\langle t \rangle} \tag{18}

    da_{prev} = W_f^T d\gamma_f^{\langle t \rangle} + W_u^T d\gamma_u^{\langle t \rangle} + W_c^T
        d\tilde c^{\langle t \rangle} + W_o^T d\gamma_o^{\langle t \rangle} \tag{19}

    dc_{prev} = dc_{next} * \Gamma_f^{\langle t \rangle} + \Gamma_o^{\langle t \rangle} * (1 -
        \tanh^2(c_{next})) * \Gamma_f^{\langle t \rangle} * da_{next} \tag{20}

    dx^{\langle t \rangle} = W_f^T d\gamma_f^{\langle t \rangle} + W_u^T d\gamma_u^{\langle t
        \rangle} + W_c^T d\tilde c^{\langle t \rangle} + W_o^T d\gamma_o^{\langle t \rangle}
        \tag{21}

Shapes: ``xt (n_x, m)``, ``a_prev, c_prev (n_a, m)``, ``Wf, Wi, Wc, Wo (n_a, n_a + n_x)``,
``bf, bi, bc, bo (n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``. The sequence starts from the
given ``a0`` and a cell state of zeros.

The module reads top to bottom as the document does: the cell forward and backward in the
document's form, one equation a line; the sequence functions; then the fast path the sequence
functions run, the same equations with the four gates stacked (f, i, c, o), the input's
products of every step before the loop and eqs. (11)-(18) and (21) of every step after it
(tested equal to the cell functions).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn._core.arguments import checked_cell_cache
from jaxrnn._core.cell import Cell, FastPath, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn._core.layout import as_columns, from_columns, transposed_product
from jaxrnn.activations import sigmoid, softmax

#: the parameters and their shapes, in the documents' dictionary order
PARAMETER_SHAPES = {
    "Wf": "n_a n_a+n_x",
    "bf": "n_a 1",
    "Wi": "n_a n_a+n_x",
    "bi": "n_a 1",
    "Wc": "n_a n_a+n_x",
    "bc": "n_a 1",
    "Wo": "n_a n_a+n_x",
    "bo": "n_a 1",
    "Wy": "n_y n_a",
    "by": "n_y 1",
}


class LSTMCache(NamedTuple):
    """The cell cache of :func:`lstm_cell_forward`, the document's 10-tuple."""

    a_next: object
    c_next: object
    a_prev: object
    c_prev: object
    ft: object
    it: object
    cct: object
    ot: object
    xt: object
    parameters: dict


#: the cell cache's fields before ``parameters``, and their shapes
CACHE_FIELDS = {**{f: "n_a m" for f in LSTMCache._fields[:8]}, "xt": "n_x m"}


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One LSTM step (LSTM document, exercise "lstm_cell_forward"): eqs. (1)-(6).

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state at step t-1, ``(n_a, m)``.
        c_prev: cell (memory) state at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wf, Wi, Wc, Wo (n_a, n_a + n_x)``, ``bf, bi, bc, bo (n_a, 1)``,
            ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, c_next, yt_pred, cache)`` with ``a_next, c_next (n_a, m)``,
        ``yt_pred (n_y, m)`` and the 10-tuple
        ``cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)``, an
        :class:`LSTMCache`.

    >>> import numpy as np
    >>> p = {k: np.zeros((2, 5)) for k in ("Wf", "Wi", "Wc", "Wo")}
    >>> p |= {k: np.zeros((2, 1)) for k in ("bf", "bi", "bc", "bo")}
    >>> p |= {"Wy": np.zeros((1, 2)), "by": np.zeros((1, 1))}
    >>> a_next, c_next, yt_pred, cache = lstm_cell_forward(
    ...     np.ones((3, 4)), np.ones((2, 4)), np.ones((2, 4)), p)
    >>> c_next.tolist()  # forget gate 0.5 keeps half of c_prev; the candidate is 0
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]
    """
    data = [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m"), ("c_prev", c_prev, "n_a m")]
    xt, a_prev, c_prev, p = LSTM.validated("lstm_cell_forward", data, parameters)
    concat = jnp.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(p["Wf"] @ concat + p["bf"])  # eq. (1), forget gate
    it = sigmoid(p["Wi"] @ concat + p["bi"])  # eq. (2), update gate
    cct = jnp.tanh(p["Wc"] @ concat + p["bc"])  # eq. (3), candidate value
    c_next = ft * c_prev + it * cct  # eq. (4)
    ot = sigmoid(p["Wo"] @ concat + p["bo"])  # eq. (5), output gate
    a_next = ot * jnp.tanh(c_next)  # eq. (6)
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    cache = LSTMCache(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)
    return a_next, c_next, yt_pred, cache


def lstm_cell_backward(da_next, dc_next, cache):
    """Backward pass of one LSTM step (LSTM document, exercise "lstm_cell_backward"):
    eqs. (7)-(21).

    Arguments:
        da_next: gradient with respect to ``a_next``, ``(n_a, m)``.
        dc_next: gradient with respect to ``c_next``, ``(n_a, m)``.
        cache: the 10-tuple returned by :func:`lstm_cell_forward`.

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dc_prev (n_a, m)`` and
        ``dWf, dWi, dWc, dWo (n_a, n_a + n_x)``, ``dbf, dbi, dbc, dbo (n_a, 1)``.
    """
    (da_next, dc_next), fields, p = checked_cell_cache(
        "lstm_cell_backward", cache, [("da_next", da_next), ("dc_next", dc_next)],
        CACHE_FIELDS, PARAMETER_SHAPES,
    )  # fmt: skip
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt = fields
    n_a = a_next.shape[0]
    # eqs. (7)-(10), the gates' derivatives
    z = 1 - jnp.tanh(c_next) ** 2
    dot_ = da_next * jnp.tanh(c_next) * ot * (1 - ot)  # eq. (7)
    dcct = (dc_next * it + ot * z * it * da_next) * (1 - cct**2)  # eq. (8)
    dit = (dc_next * cct + ot * z * cct * da_next) * it * (1 - it)  # eq. (9)
    dft = (dc_next * c_prev + ot * z * c_prev * da_next) * ft * (1 - ft)  # eq. (10)
    # eqs. (11)-(18), the parameters' derivatives
    concat_T = jnp.concatenate([a_prev, xt], axis=0).T
    dWf = dft @ concat_T  # eq. (11)
    dWi = dit @ concat_T  # eq. (12)
    dWc = dcct @ concat_T  # eq. (13)
    dWo = dot_ @ concat_T  # eq. (14)
    dbf = jnp.sum(dft, axis=1, keepdims=True)  # eq. (15)
    dbi = jnp.sum(dit, axis=1, keepdims=True)  # eq. (16)
    dbc = jnp.sum(dcct, axis=1, keepdims=True)  # eq. (17)
    dbo = jnp.sum(dot_, axis=1, keepdims=True)  # eq. (18)
    # eqs. (19)-(21): eq. (19) takes the weights' first n_a columns (those acting on a_prev),
    # eq. (21) the rest (those acting on xt)
    Wf_a, Wi_a, Wc_a, Wo_a = (p[k][:, :n_a] for k in ("Wf", "Wi", "Wc", "Wo"))
    Wf_x, Wi_x, Wc_x, Wo_x = (p[k][:, n_a:] for k in ("Wf", "Wi", "Wc", "Wo"))
    da_prev = Wf_a.T @ dft + Wi_a.T @ dit + Wc_a.T @ dcct + Wo_a.T @ dot_  # eq. (19)
    dc_prev = dc_next * ft + ot * z * ft * da_next  # eq. (20)
    dxt = Wf_x.T @ dft + Wi_x.T @ dit + Wc_x.T @ dcct + Wo_x.T @ dot_  # eq. (21)
    return {
        "dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf,
        "dWi": dWi, "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo,
    }  # fmt: skip


#: the equations of the docstring above, ``{"(7)": latex}``: what ``jaxrnn check FILE`` cites
EQUATIONS = equations(__doc__)
#: the equations each output of the cell functions depends on: the gates' derivatives
#: (7)-(10) feed every parameter's (11)-(18) and (19), (21); (20) reads none of them
EQUATIONS_OF = {
    "ft": ("(1)",), "it": ("(2)",), "cct": ("(3)",), "ot": ("(5)",),
    "c_next": ("(1)", "(2)", "(3)", "(4)"),
    "a_next": ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)"),
    "yt_pred": ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "prediction"),
    "dxt": ("(7)", "(8)", "(9)", "(10)", "(21)"),
    "da_prev": ("(7)", "(8)", "(9)", "(10)", "(19)"),
    "dc_prev": ("(20)",),
    "dWf": ("(10)", "(11)"), "dbf": ("(10)", "(15)"),
    "dWi": ("(9)", "(12)"), "dbi": ("(9)", "(16)"),
    "dWc": ("(8)", "(13)"), "dbc": ("(8)", "(17)"),
    "dWo": ("(7)", "(14)"), "dbo": ("(7)", "(18)"),
}  # fmt: skip


def lstm_forward(x, a0, parameters, *, c0=None, lengths=None, reverse=False):
    """The LSTM over a whole sequence (LSTM document, exercise "lstm_forward"), a ``lax.scan``.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` and ``parameters`` as for :func:`lstm_cell_forward`;
    the cell state starts at zeros, as the document has it, or at ``c0 (n_a, m)`` (the
    backward then returns ``dc0``). Returns ``(a, y, c, caches)``: hidden states, predictions
    ``(n_y, m, T_x)``, cell states ``(n_a, m, T_x)`` and ``caches = (per-step caches, x)``;
    ``caches[0][t]`` is the 10-tuple of step ``t``.
    """
    return sequence_forward(LSTM, x, a0, parameters, lengths=lengths, reverse=reverse, c0=c0)


def lstm_backward(da, caches):
    """Backpropagation through time for the LSTM (LSTM document, exercise "lstm_backward").

    From the gradient of the first ``T_da <= T_x`` hidden states, ``da (n_a, m, T_da)``, and the
    ``caches`` of :func:`lstm_forward`, eqs. (7)-(21) over the steps, last first, ``dc_next`` of
    the last step 0. Returns ``dx (n_x, m, T_x)``, ``da0 (n_a, m)`` (and ``dc0 (n_a, m)`` where
    the forward was given ``c0``), ``dWf, dWi, dWc, dWo (n_a, n_a + n_x)`` and ``dbf, dbi, dbc,
    dbo (n_a, 1)``.
    """
    return sequence_backward(LSTM, da, caches)


# The fast path: the same equations with the four gates stacked (f, i, c, o), so that each
# product is one product for all four, and the products of all steps are done at once.


def _stacked(p, kind):
    """The four gates' weights (``kind="W"``) or biases (``"b"``) stacked: f, i, c, o."""
    return jnp.concatenate([p[f"{kind}{gate}"] for gate in "fico"], axis=0)


def input_projection(xs, p):
    """The input's part of eqs. (1), (2), (3), (5) for every step at once, biases included:
    ``xs (T, n_x, m) -> (4 n_a, T m)``."""
    return _input_weights(p) @ as_columns(xs) + _stacked(p, "b")


def _input_weights(p):
    """The four gates' weights on ``xt`` (their columns from ``n_a`` on), stacked:
    ``(4 n_a, n_x)``."""
    return _stacked(p, "W")[:, p["Wf"].shape[0] :]


def recurrent_weights(p):
    """The four gates' weights on ``a_prev`` (their first ``n_a`` columns), stacked
    ``(4 n_a, n_a)``, and their transpose, formed once, outside the loops."""
    W_a = _stacked(p, "W")[:, : p["Wf"].shape[0]]
    return {"W_a": W_a, "W_a_T": W_a.T}


def step(state, zx, w):
    """Eqs. (1)-(6) of one step, given ``zx``, the step's :func:`input_projection`.

    Returns ``((a_next, c_next), (ft, it, cct, ot))``.
    """
    a_prev, c_prev = state
    n_a = a_prev.shape[0]
    z = w["W_a"] @ a_prev + zx  # eqs. (1), (2), (3), (5): the state's part, stacked
    ft = sigmoid(z[:n_a])  # eq. (1), forget gate
    it = sigmoid(z[n_a : 2 * n_a])  # eq. (2), update gate
    cct = jnp.tanh(z[2 * n_a : 3 * n_a])  # eq. (3), candidate value
    c_next = ft * c_prev + it * cct  # eq. (4)
    ot = sigmoid(z[3 * n_a :])  # eq. (5), output gate
    a_next = ot * jnp.tanh(c_next)  # eq. (6)
    return (a_next, c_next), (ft, it, cct, ot)


def step_backward(dstate, cache, w, columns):
    """The per-step part of the backward: eqs. (7)-(10), (19), (20).

    Writes the four gates' gradients, stacked (f, i, c, o), into ``columns``, from which
    :func:`parameter_backward` forms everything else. Returns ``((da_prev, dc_prev), columns)``.
    """
    (da_next, dc_next), n_a = dstate, dstate[0].shape[0]
    tanh_c = jnp.tanh(cache.c_next)
    # the gradient reaching c_next: from dc_next and, through eq. (6), from da_next
    dc = dc_next + cache.ot * (1 - tanh_c**2) * da_next
    dot_ = da_next * tanh_c * cache.ot * (1 - cache.ot)  # eq. (7)
    dcct = dc * cache.it * (1 - cache.cct**2)  # eq. (8)
    dit = dc * cache.cct * cache.it * (1 - cache.it)  # eq. (9)
    dft = dc * cache.c_prev * cache.ft * (1 - cache.ft)  # eq. (10)
    columns = columns.write(dft, dit, dcct, dot_)
    da_prev = w["W_a_T"] @ columns.rows(0, 4 * n_a)  # eq. (19), the four gates at once
    dc_prev = dc * cache.ft  # eq. (20)
    return (da_prev, dc_prev), columns


def parameter_backward(dgates, caches, p):
    """Eqs. (11)-(18) and (21) for every step at once, from the stacked gate gradients of every
    step, ``(4 n_a, T m)``: the sums over time and batch are one matrix product per kind.

    Returns ``(dxs (T, n_x, m), {"dWf", "dbf", ...})``.
    """
    concat = as_columns(jnp.concatenate([caches.a_prev, caches.xt], axis=1))
    dWf, dWi, dWc, dWo = jnp.split(dgates @ concat.T, 4)  # eqs. (11)-(14)
    dbf, dbi, dbc, dbo = jnp.split(jnp.sum(dgates, axis=1, keepdims=True), 4)  # eqs. (15)-(18)
    T = caches.xt.shape[0]
    dxs = from_columns(transposed_product(_input_weights(p), dgates), T)  # eq. (21)
    return dxs, {
        "dWf": dWf, "dbf": dbf, "dWi": dWi, "dbi": dbi,
        "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo,
    }  # fmt: skip


#: the fast path above, for the sequence functions
# fmt: off
FAST = FastPath(input_projection, recurrent_weights, step, step_backward, parameter_backward,
                rows=lambda n_a: 4 * n_a)

#: the LSTM document's cell: its sequence functions, twins, loss and checks
LSTM = Cell(name="lstm", cell_forward=lstm_cell_forward, cell_backward=lstm_cell_backward,
            parameter_shapes=PARAMETER_SHAPES, state=("a", "c"), cache=LSTMCache,
            cache_fields=CACHE_FIELDS, forward=lstm_forward, backward=lstm_backward, fast=FAST)
# fmt: on


__all__ = [
    "LSTM", "CACHE_FIELDS", "EQUATIONS", "EQUATIONS_OF", "LSTMCache", "PARAMETER_SHAPES",
    "input_projection", "lstm_backward", "lstm_cell_backward", "lstm_cell_forward", "lstm_forward",
    "parameter_backward", "recurrent_weights", "step", "step_backward"
]  # fmt: skip
