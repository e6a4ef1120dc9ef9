r"""The LSTM of the LSTM document: cell and sequence, forward and hand-derived backward.

Forward, for one step, on :math:`[a^{\langle t-1 \rangle}; x^{\langle t \rangle}]` (hidden state
first), the LSTM document's eqs. (1)-(6) and the prediction:

.. math::
    \Gamma_f &= \sigma(W_f [a_{prev}; x_t] + b_f) \qquad
    \Gamma_i = \sigma(W_i [a_{prev}; x_t] + b_i) \qquad
    \tilde c = \tanh(W_c [a_{prev}; x_t] + b_c) \\
    c_{next} &= \Gamma_f * c_{prev} + \Gamma_i * \tilde c \qquad
    \Gamma_o = \sigma(W_o [a_{prev}; x_t] + b_o) \qquad
    a_{next} = \Gamma_o * \tanh(c_{next}) \\
    \hat y &= \mathrm{softmax}(W_y a_{next} + b_y)

``Wi``/``bi``/``it`` belong to the update gate (the document's :math:`\Gamma_u`). Backward:
eqs. (7)-(21), from ``da_next`` and ``dc_next``; the output layer is not part of it.

Both directions are split the same way. Forward: the input's part of eqs. (1), (2), (3), (5),
for all steps at once (:func:`input_projection`), then the state's part and the gates, step by
step (:func:`step`). Backward: the recurrence, step by step (:func:`step_backward`), then the
parameter and input gradients for all steps at once (:func:`parameter_backward`). The cell
functions run the same pieces on one step.

Shapes: ``xt (n_x, m)``, ``a_prev, c_prev (n_a, m)``, ``Wf, Wi, Wc, Wo (n_a, n_a + n_x)``,
``bf, bi, bc, bo (n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``. The sequence starts from the
given ``a0`` and a cell state of zeros.
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
PARAMETER_KEYS = tuple(PARAMETER_SHAPES)
#: the cell cache's fields before its final ``parameters``, and their shapes
CACHE_FIELDS = {
    "a_next": "n_a m",
    "c_next": "n_a m",
    "a_prev": "n_a m",
    "c_prev": "n_a m",
    "ft": "n_a m",
    "it": "n_a m",
    "cct": "n_a m",
    "ot": "n_a m",
    "xt": "n_x m",
}
#: the parameters the backward differentiates, in the documents' dictionary order
GRADIENT_KEYS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")


def _stacked(p, kind):
    """The four gates' weights (``kind="W"``) or biases (``"b"``) stacked: f, i, c, o."""
    return jnp.concatenate([p[f"{kind}{gate}"] for gate in "fico"], axis=0)


def _checked(fn, data, parameters):
    """Check ``data`` (``[(name, array, dims)]``) against the parameters; cast to one dtype."""
    return checked(fn, parameters, PARAMETER_SHAPES, data)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One LSTM step (LSTM document, exercise "lstm_cell_forward").

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state at step t-1, ``(n_a, m)``.
        c_prev: cell (memory) state at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wf, Wi, Wc, Wo (n_a, n_a + n_x)``, ``bf, bi, bc, bo (n_a, 1)``,
            ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, c_next, yt_pred, cache)`` with ``a_next, c_next (n_a, m)``,
        ``yt_pred (n_y, m)`` and the 10-tuple
        ``cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)``.

    >>> import numpy as np
    >>> p = {k: np.zeros((2, 5)) for k in ("Wf", "Wi", "Wc", "Wo")}
    >>> p |= {k: np.zeros((2, 1)) for k in ("bf", "bi", "bc", "bo")}
    >>> p |= {"Wy": np.zeros((1, 2)), "by": np.zeros((1, 1))}
    >>> a_next, c_next, yt_pred, cache = lstm_cell_forward(
    ...     np.ones((3, 4)), np.ones((2, 4)), np.ones((2, 4)), p)
    >>> c_next.tolist()  # forget gate 0.5 keeps half of c_prev; the candidate is 0
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]
    """
    xt, a_prev, c_prev, p = _checked(
        "lstm_cell_forward",
        [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m"), ("c_prev", c_prev, "n_a m")],
        parameters,
    )
    zx = input_projection(xt[None], p)
    (a_next, c_next), gates = step((a_prev, c_prev), zx, recurrent_weights(p))
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, c_next, yt_pred, (a_next, c_next, a_prev, c_prev, *gates, xt, p)


def input_projection(xs, p):
    """The input's part of eqs. (1), (2), (3), (5) for every step at once, biases included.

    ``xs (T, n_x, m) -> (4 n_a, T * m)``: the four gates' weights stacked (f, i, c, o), their
    columns from ``n_a`` on (those acting on ``xt``), times every example of every step.
    """
    return _input_weights(p) @ as_columns(xs) + _stacked(p, "b")


def _input_weights(p):
    """The four gates' weights on ``xt`` (their columns from ``n_a`` on), stacked:
    ``(4 n_a, n_x)``."""
    return _stacked(p, "W")[:, p["Wf"].shape[0] :]


def recurrent_weights(p):
    """The four gates' weights on ``a_prev`` (their first ``n_a`` columns), stacked:
    ``(4 n_a, n_a)``."""
    return _stacked(p, "W")[:, : p["Wf"].shape[0]]


def step(state, zx, W_a):
    """Eqs. (1)-(6) of one step, given ``zx``, the step's :func:`input_projection`, and
    ``W_a``, the :func:`recurrent_weights`.

    Returns ``((a_next, c_next), (ft, it, cct, ot))``.
    """
    a_prev, c_prev = state
    n_a = a_prev.shape[0]
    # eqs. (1), (2), (3), (5): the state's part, one product with the four weights stacked
    z = W_a @ a_prev + zx
    ft = sigmoid(z[:n_a])  # eq. (1), forget gate
    it = sigmoid(z[n_a : 2 * n_a])  # eq. (2), update gate
    cct = jnp.tanh(z[2 * n_a : 3 * n_a])  # eq. (3), candidate value
    c_next = ft * c_prev + it * cct  # eq. (4)
    ot = sigmoid(z[3 * n_a :])  # eq. (5), output gate
    a_next = ot * jnp.tanh(c_next)  # eq. (6)
    return (a_next, c_next), (ft, it, cct, ot)


def lstm_cell_backward(da_next, dc_next, cache):
    """Backward pass of one LSTM step (LSTM document, eqs. (7)-(21)).

    Arguments:
        da_next: gradient with respect to ``a_next``, ``(n_a, m)``.
        dc_next: gradient with respect to ``c_next``, ``(n_a, m)``.
        cache: the 10-tuple returned by :func:`lstm_cell_forward`.

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dc_prev (n_a, m)`` and
        ``dWf, dWi, dWc, dWo (n_a, n_a + n_x)``, ``dbf, dbi, dbc, dbo (n_a, 1)``.
    """
    (da_next, dc_next), (*fields, xt), p = checked_cell_cache(
        "lstm_cell_backward", cache, [("da_next", da_next), ("dc_next", dc_next)],
        CACHE_FIELDS, PARAMETER_SHAPES,
    )  # fmt: skip
    (da_prev, dc_prev), dgates = backward_one_step(
        step_backward, (da_next, dc_next), (*fields, xt), recurrent_weights(p)
    )
    (dxt,), g = parameter_backward(dgates, tuple(f[None] for f in (*fields, xt)), p)
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, **g}


def step_backward(dstate, fields, W_a_T, columns):
    """The per-step part of the backward, run inside the reverse scan: eqs. (7)-(10), (19), (20).

    ``W_a_T`` is the :func:`recurrent_weights` transposed. Writes ``dgates (4 n_a, m)``, the
    gradients at the four gates' pre-activations stacked (f, i, c, o), from which
    :func:`parameter_backward` forms everything else, into ``columns``, a
    :class:`~jaxrnn.unroll.GateColumns`. Returns ``((da_prev, dc_prev), columns)``.
    """
    (da_next, dc_next), (_, c_next, _, c_prev, ft, it, cct, ot, _) = dstate, fields
    n_a = da_next.shape[0]
    tanh_c = jnp.tanh(c_next)
    # the gradient reaching c_next: from dc_next and, through eq. (6), from da_next
    dc = dc_next + ot * (1 - tanh_c**2) * da_next
    dot_ = da_next * tanh_c * ot * (1 - ot)  # eq. (7)
    dcct = dc * it * (1 - cct**2)  # eq. (8)
    dit = dc * cct * it * (1 - it)  # eq. (9)
    dft = dc * c_prev * ft * (1 - ft)  # eq. (10)
    columns = columns.write(dft, dit, dcct, dot_)
    # eq. (19): the first n_a columns of each gate's weight act on a_prev; one product for all
    da_prev = W_a_T @ columns.rows(0, 4 * n_a)
    dc_prev = dc * ft  # eq. (20)
    return (da_prev, dc_prev), columns


def parameter_backward(d, fields, p):
    """Eqs. (11)-(18) and (21) for every step at once: ``d`` is the stacked gate gradients of
    :func:`step_backward` of every step as columns, ``(4 n_a, T * m)``; the cache fields are
    ``(T, ...)``.

    The sums over time and batch become one matrix product per gate, and ``dxt`` of every step
    one product too: no parameter gradient is carried through the reverse scan.
    Returns ``(dxs, {"dWf", "dbf", ...})`` with ``dxs`` of shape ``(T, n_x, m)``.
    """
    a_prev, xt = fields[2], fields[8]
    n_a = a_prev.shape[1]
    dW = d @ as_columns(jnp.concatenate([a_prev, xt], axis=1)).T  # eqs. (11)-(14), stacked
    db = jnp.sum(d, axis=1, keepdims=True)  # eqs. (15)-(18), stacked
    # eq. (21): the weights' columns from n_a on act on xt
    dxs = from_columns(transposed_product(_input_weights(p), d), xt.shape[0])
    g = {}
    for i, key in enumerate(("f", "i", "c", "o")):
        g[f"dW{key}"] = dW[i * n_a : (i + 1) * n_a]
        g[f"db{key}"] = db[i * n_a : (i + 1) * n_a]
    return dxs, g


#: the sequence forward's split of the cell forward: see :class:`jaxrnn.unroll.Recurrence`
RECURRENCE = Recurrence(input_projection, recurrent_weights, step, ("Wy", "by"), n_state=2)


def lstm_forward(x, a0, parameters):
    """The LSTM over a whole sequence (LSTM document, exercise "lstm_forward"), a ``lax.scan``.

    Arguments:
        x: inputs for every step, ``(n_x, m, T_x)``.
        a0: initial hidden state, ``(n_a, m)``; the initial cell state is zeros.
        parameters: as for :func:`lstm_cell_forward`.

    Returns:
        ``(a, y, c, caches)``: hidden states ``(n_a, m, T_x)``, predictions
        ``(n_y, m, T_x)``, cell states ``(n_a, m, T_x)`` and ``caches = (per-step caches, x)``;
        ``caches[0][t]`` is the cell cache of step ``t``.
    """
    x, a0, p = _checked("lstm_forward", [("x", x, "n_x m T_x"), ("a0", a0, "n_a m")], parameters)
    y_pred, states, steps = sequence_forward(RECURRENCE, x, a0, p)
    return states[0], y_pred, states[1], (steps, x)


def lstm_backward(da, caches):
    """Backpropagation through time for the LSTM (LSTM document, exercise "lstm_backward").

    Arguments:
        da: upstream gradients of the hidden states, ``(n_a, m, T_da)``. ``T_da`` may be less
            than ``T_x``: the later hidden states then get no upstream gradient.
        caches: the ``caches`` returned by :func:`lstm_forward`.

    Returns:
        dict with ``dx (n_x, m, T_x)``, ``da0 (n_a, m)``, ``dWf, dWi, dWc, dWo
        (n_a, n_a + n_x)`` and ``dbf, dbi, dbc, dbo (n_a, 1)``.
    """
    return sequence_backward(
        "lstm_backward", da, caches, cache_fields=CACHE_FIELDS,
        parameter_shapes=PARAMETER_SHAPES, recurrence=RECURRENCE,
        step_backward=step_backward, parameter_backward=parameter_backward, keys=GRADIENT_KEYS,
    )  # fmt: skip
