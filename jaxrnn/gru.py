r"""The full GRU of the course, in the documents' style: cell and sequence, forward and backward.

Forward, for one step, with :math:`c^{\langle t-1 \rangle} = a^{\langle t-1 \rangle}` (equations
(G1)-(G5), derived in ``docs/gru.md``):

.. math::
    \Gamma_r &= \sigma(W_r [c_{prev}; x_t] + b_r) \qquad
    \Gamma_u = \sigma(W_u [c_{prev}; x_t] + b_u) \\
    \tilde c &= \tanh(W_c [\Gamma_r * c_{prev}; x_t] + b_c) \qquad
    c_{next} = \Gamma_u * \tilde c + (1 - \Gamma_u) * c_{prev} \qquad
    a_{next} = c_{next} \\
    \hat y &= \mathrm{softmax}(W_y a_{next} + b_y)

This is the "reset before the matrix product" form of the original GRU: the relevance gate
scales :math:`c_{prev}` before :math:`W_c` sees it. cuDNN, PyTorch and Flax use the "reset
after" form, :math:`\tanh(W_{cx} x + \Gamma_r * (W_{cc} c_{prev} + b_{cc}) + b_c)`, which is a
different function. Backward: equations (G6)-(G18), from ``da_next``.

As for the LSTM, the forward is :func:`input_projection` (the input's part of (G1)-(G3), all
steps at once) and :func:`step` (the rest, step by step), the backward :func:`step_backward`
(step by step) and :func:`parameter_backward` (all steps at once).

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wr, Wu, Wc (n_a, n_a + n_x)``,
``br, bu, bc (n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxrnn._checks import checked, checked_cell_cache
from jaxrnn.activations import sigmoid, softmax
from jaxrnn.unroll import (
    Recurrence,
    as_columns,
    backward_one_step,
    from_columns,
    sequence_backward,
    sequence_forward,
    transposed_product,
)

#: the parameters and their shapes, in the documents' dictionary order
PARAMETER_SHAPES = {
    "Wr": "n_a n_a+n_x",
    "br": "n_a 1",
    "Wu": "n_a n_a+n_x",
    "bu": "n_a 1",
    "Wc": "n_a n_a+n_x",
    "bc": "n_a 1",
    "Wy": "n_y n_a",
    "by": "n_y 1",
}
PARAMETER_KEYS = tuple(PARAMETER_SHAPES)
#: the cell cache's fields before its final ``parameters``, and their shapes
CACHE_FIELDS = {
    "a_next": "n_a m",
    "a_prev": "n_a m",
    "rt": "n_a m",
    "ut": "n_a m",
    "cct": "n_a m",
    "xt": "n_x m",
}
#: the parameters the backward differentiates, in dictionary order
GRADIENT_KEYS = ("Wr", "br", "Wu", "bu", "Wc", "bc")


def _checked(fn, data, parameters):
    """Check ``data`` (``[(name, array, dims)]``) against the parameters; cast to one dtype."""
    return checked(fn, parameters, PARAMETER_SHAPES, data)


def gru_cell_forward(xt, a_prev, parameters):
    """One GRU step.

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state (= memory cell) at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wr, Wu, Wc (n_a, n_a + n_x)``, ``br, bu, bc (n_a, 1)``,
            ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)`` with ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and the
        7-tuple ``cache = (a_next, a_prev, rt, ut, cct, xt, parameters)``.

    >>> import numpy as np
    >>> p = {k: np.zeros((2, 5)) for k in ("Wr", "Wu", "Wc")}
    >>> p |= {k: np.zeros((2, 1)) for k in ("br", "bu", "bc")}
    >>> p |= {"Wy": np.zeros((1, 2)), "by": np.zeros((1, 1))}
    >>> a_next, yt_pred, cache = gru_cell_forward(np.ones((3, 4)), np.ones((2, 4)), p)
    >>> a_next.tolist()  # update gate 0.5 between candidate 0 and c_prev 1
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]
    """
    xt, a_prev, p = _checked(
        "gru_cell_forward", [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")], parameters
    )
    zx = input_projection(xt[None], p)
    (a_next,), gates = step((a_prev,), zx, recurrent_weights(p))
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, yt_pred, (a_next, a_prev, *gates, xt, p)


def _stacked(p, kind):
    """The relevance and update gates' weights (``kind="W"``) or biases (``"b"``) stacked."""
    return jnp.concatenate([p[f"{kind}r"], p[f"{kind}u"]], axis=0)


def input_projection(xs, p):
    """The input's part of (G1)-(G3) for every step at once, biases included.

    ``xs (T, n_x, m) -> (3 n_a, T * m)``, rows: relevance gate, update gate, candidate; the
    weights' columns from ``n_a`` on act on ``xt``.
    """
    b = jnp.concatenate([_stacked(p, "b"), p["bc"]], axis=0)
    return _input_weights(p) @ as_columns(xs) + b


def _input_weights(p):
    """The columns acting on ``xt`` of the relevance gate's, update gate's and candidate's
    weights, stacked ``(3 n_a, n_x)``."""
    n_a = p["Wc"].shape[0]
    return jnp.concatenate([_stacked(p, "W"), p["Wc"]], axis=0)[:, n_a:]


def recurrent_weights(p):
    """The weights on ``c_prev``: both gates' stacked ``(2 n_a, n_a)`` and the candidate's
    ``(n_a, n_a)``, the first ``n_a`` columns of each."""
    n_a = p["Wc"].shape[0]
    return _stacked(p, "W")[:, :n_a], p["Wc"][:, :n_a]


def step(state, zx, weights):
    """(G1)-(G5) of one step, given ``zx``, the step's :func:`input_projection`, and the
    :func:`recurrent_weights`.

    Returns ``((a_next,), (rt, ut, cct))``.
    """
    (a_prev,), (W_gates, W_cand) = state, weights
    n_a = a_prev.shape[0]
    # (G1), (G2): the state's part of both gates, one product with their weights stacked
    z = W_gates @ a_prev + zx[: 2 * n_a]
    rt = sigmoid(z[:n_a])  # (G1), relevance gate
    ut = sigmoid(z[n_a:])  # (G2), update gate
    cct = jnp.tanh(W_cand @ (rt * a_prev) + zx[2 * n_a :])  # (G3)
    a_next = ut * cct + (1 - ut) * a_prev  # (G4) and (G5): a = c
    return (a_next,), (rt, ut, cct)


def gru_cell_backward(da_next, cache):
    """Backward pass of one GRU step, equations (G6)-(G18) of ``docs/gru.md``.

    Arguments:
        da_next: gradient with respect to ``a_next`` (which is ``c_next``), ``(n_a, m)``.
        cache: the 7-tuple returned by :func:`gru_cell_forward`.

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dWr, dWu, dWc (n_a, n_a + n_x)``
        and ``dbr, dbu, dbc (n_a, 1)``.
    """
    (da_next,), (*fields, xt), p = checked_cell_cache(
        "gru_cell_backward", cache, [("da_next", da_next)], CACHE_FIELDS, PARAMETER_SHAPES
    )
    (da_prev,), dpre = backward_one_step(
        step_backward, (da_next,), (*fields, xt), recurrent_weights(p)
    )
    (dxt,), g = parameter_backward(dpre, tuple(f[None] for f in (*fields, xt)), p)
    return {"dxt": dxt, "da_prev": da_prev, **g}


def step_backward(dstate, fields, weights_T, columns):
    """The per-step part of the backward, run inside the reverse scan: (G6)-(G9), (G17).

    ``weights_T``: the :func:`recurrent_weights` transposed. Writes ``dpre (3 n_a, m)``, the
    gradients at the pre-activations of the relevance gate, the update gate and the candidate,
    stacked, into ``columns``, a :class:`~jaxrnn.unroll.GateColumns`. Returns
    ``((da_prev,), columns)``.
    """
    (da_next,), (_, a_prev, rt, ut, cct, _), (W_gates_T, W_cand_T) = dstate, fields, weights_T
    n_a = da_next.shape[0]
    dcct = da_next * ut * (1 - cct**2)  # (G6), at the candidate's pre-activation
    dut = da_next * (cct - a_prev) * ut * (1 - ut)  # (G7), at the update gate's pre-activation
    d_reset_a = W_cand_T @ dcct  # (G8), its first n_a rows: at rt * a_prev
    drt = d_reset_a * a_prev * rt * (1 - rt)  # (G9), at the relevance gate's pre-activation
    columns = columns.write(drt, dut, dcct)
    # (G17): a_prev reaches a_next directly (G4), through the candidate (G3) and the gates,
    # (G16)'s first n_a rows: both gates at once, their weights and gradients stacked
    da_prev = da_next * (1 - ut) + d_reset_a * rt + W_gates_T @ columns.rows(0, 2 * n_a)
    return (da_prev,), columns


def parameter_backward(d, fields, p):
    """(G10)-(G16) and (G18) for every step at once: ``d`` is the stacked ``dpre`` of
    :func:`step_backward` of every step as columns, ``(3 n_a, T * m)``; the cache fields are
    ``(T, ...)``.

    Returns ``(dxs, {"dWr", "dbr", "dWu", "dbu", "dWc", "dbc"})``, ``dxs`` ``(T, n_x, m)``.
    """
    a_prev, rt, xt = fields[1], fields[2], fields[5]
    n_a, T = a_prev.shape[1], a_prev.shape[0]
    # rows as in input_projection: relevance gate, update gate, candidate
    dW_gates = d[: 2 * n_a] @ as_columns(jnp.concatenate([a_prev, xt], axis=1)).T  # (G14), (G12)
    dWc = d[2 * n_a :] @ as_columns(jnp.concatenate([rt * a_prev, xt], axis=1)).T  # (G10)
    db = jnp.sum(d, axis=1, keepdims=True)  # (G15), (G13), (G11)
    g = {
        "dWr": dW_gates[:n_a],  # (G14)
        "dbr": db[:n_a],  # (G15)
        "dWu": dW_gates[n_a:],  # (G12)
        "dbu": db[n_a : 2 * n_a],  # (G13)
        "dWc": dWc,  # (G10)
        "dbc": db[2 * n_a :],  # (G11)
    }
    # (G18): xt feeds both gates, (G16)'s rows from n_a on, and the candidate, (G8)'s
    dxs = from_columns(transposed_product(_input_weights(p), d), T)
    return dxs, g


#: the sequence forward's split of the cell forward: see :class:`jaxrnn.unroll.Recurrence`
RECURRENCE = Recurrence(input_projection, recurrent_weights, step, ("Wy", "by"), n_state=1)


def gru_forward(x, a0, parameters):
    """The GRU over a whole sequence, a ``lax.scan``.

    Arguments:
        x: inputs for every step, ``(n_x, m, T_x)``.
        a0: initial hidden state, ``(n_a, m)``.
        parameters: as for :func:`gru_cell_forward`.

    Returns:
        ``(a, y_pred, caches)``: hidden states ``(n_a, m, T_x)``, predictions
        ``(n_y, m, T_x)`` and ``caches = (per-step caches, x)``.
    """
    x, a0, p = _checked("gru_forward", [("x", x, "n_x m T_x"), ("a0", a0, "n_a m")], parameters)
    y_pred, states, steps = sequence_forward(RECURRENCE, x, a0, p)
    return states[0], y_pred, (steps, x)


def gru_backward(da, caches):
    """Backpropagation through time for the GRU, a reverse ``lax.scan`` of the cell backward.

    Arguments:
        da: upstream gradients of the hidden states, ``(n_a, m, T_da)``, ``T_da <= T_x``.
        caches: the ``caches`` returned by :func:`gru_forward`.

    Returns:
        dict with ``dx (n_x, m, T_x)``, ``da0 (n_a, m)``, ``dWr, dWu, dWc (n_a, n_a + n_x)``
        and ``dbr, dbu, dbc (n_a, 1)``.
    """
    return sequence_backward(
        "gru_backward", da, caches, cache_fields=CACHE_FIELDS,
        parameter_shapes=PARAMETER_SHAPES, recurrence=RECURRENCE,
        step_backward=step_backward, parameter_backward=parameter_backward, keys=GRADIENT_KEYS,
    )  # fmt: skip
