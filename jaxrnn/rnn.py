r"""The basic RNN of the RNN document: cell and sequence, forward and hand-derived backward.

Forward, for one step (the RNN document's eq. (1) and the prediction):

.. math::
    a^{\langle t \rangle} = \tanh(W_{aa} a^{\langle t-1 \rangle}
                               + W_{ax} x^{\langle t \rangle} + b_a)
    \qquad
    \hat y^{\langle t \rangle} = \mathrm{softmax}(W_{ya} a^{\langle t \rangle} + b_y)

Backward, from :math:`da_{next} = \partial J / \partial a^{\langle t \rangle}` (eqs. (2)-(8)):
the output layer is not part of it, as in the document.

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``,
``Wya (n_y, n_a)``, ``ba (n_a, 1)``, ``by (n_y, 1)``; sequences add a last axis ``T_x``.

The sequence forward forms ``W_ax x + b_a`` of all steps at once (:func:`input_projection`) and
runs only ``tanh(W_aa a_prev + ...)`` step by step (:func:`step`); the backward runs eqs. (2),
(3), (8) step by step (:func:`step_backward`) and eqs. (4)-(7) for all steps at once
(:func:`parameter_backward`). The cell functions run the same pieces on one step.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxrnn._checks import checked, checked_cell_cache
from jaxrnn.activations import softmax
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
    "Wax": "n_a n_x",
    "Waa": "n_a n_a",
    "Wya": "n_y n_a",
    "ba": "n_a 1",
    "by": "n_y 1",
}
PARAMETER_KEYS = tuple(PARAMETER_SHAPES)
#: the cell cache's fields before its final ``parameters``, and their shapes
CACHE_FIELDS = {
    "a_next": "n_a m",
    "a_prev": "n_a m",
    "xt": "n_x m",
}
#: the parameters the backward differentiates (the output layer is outside it)
GRADIENT_KEYS = ("Wax", "Waa", "ba")


def _checked(fn, data, parameters):
    """Check ``data`` (``[(name, array, dims)]``) against the parameters; cast to one dtype."""
    return checked(fn, parameters, PARAMETER_SHAPES, data)


def rnn_cell_forward(xt, a_prev, parameters):
    """One step of the basic RNN (RNN document, exercise 1).

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``Wya (n_y, n_a)``,
            ``ba (n_a, 1)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)``: ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and
        ``cache = (a_next, a_prev, xt, parameters)``.

    >>> import numpy as np
    >>> p = {"Wax": np.ones((2, 3)), "Waa": np.eye(2), "Wya": np.ones((1, 2)),
    ...      "ba": np.zeros((2, 1)), "by": np.zeros((1, 1))}
    >>> a_next, yt_pred, cache = rnn_cell_forward(np.zeros((3, 4)), np.zeros((2, 4)), p)
    >>> a_next.shape, yt_pred.shape, len(cache)
    ((2, 4), (1, 4), 4)
    """
    xt, a_prev, p = _checked(
        "rnn_cell_forward", [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")], parameters
    )
    (a_next,), _ = step((a_prev,), input_projection(xt[None], p), recurrent_weights(p))
    yt_pred = softmax(p["Wya"] @ a_next + p["by"])
    return a_next, yt_pred, (a_next, a_prev, xt, p)


def input_projection(xs, p):
    """``W_ax x + b_a`` of eq. (1) for every step at once, as columns:
    ``xs (T, n_x, m) -> (n_a, T * m)``."""
    return p["Wax"] @ as_columns(xs) + p["ba"]


def recurrent_weights(p):
    """``W_aa``, the weights on ``a_prev``."""
    return p["Waa"]


def step(state, zx, Waa):
    """Eq. (1) of one step, given ``zx = W_ax x + b_a``. Returns ``((a_next,), ())``."""
    (a_prev,) = state
    return (jnp.tanh(Waa @ a_prev + zx),), ()  # eq. (1)


def rnn_cell_backward(da_next, cache):
    """Backward pass of one RNN step (RNN document, exercise 5).

    Arguments:
        da_next: gradient of the loss with respect to ``a_next``, ``(n_a, m)``.
        cache: the ``(a_next, a_prev, xt, parameters)`` returned by :func:`rnn_cell_forward`.

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dWax (n_a, n_x)``,
        ``dWaa (n_a, n_a)``, ``dba (n_a, 1)``.
    """
    (da_next,), (a_next, a_prev, xt), p = checked_cell_cache(
        "rnn_cell_backward", cache, [("da_next", da_next)], CACHE_FIELDS, PARAMETER_SHAPES
    )
    (da_prev,), dtanh = backward_one_step(
        step_backward, (da_next,), (a_next, a_prev, xt), recurrent_weights(p)
    )
    (dxt,), g = parameter_backward(dtanh, (a_next[None], a_prev[None], xt[None]), p)
    return {"dxt": dxt, "da_prev": da_prev, **g}


def step_backward(dstate, fields, Waa_T, columns):
    """The per-step part of the backward, run inside the reverse scan: eqs. (2)-(3) and (8).

    ``Waa_T`` is ``W_aa`` transposed. Writes ``dtanh``, the gradient at the pre-activation,
    into ``columns``, a :class:`~jaxrnn.unroll.GateColumns`. Returns ``((da_prev,), columns)``.
    """
    (da_next,), (a_next, _, _) = dstate, fields  # (a_next, a_prev, xt)
    # eqs. (2)-(3): tanh' = 1 - tanh^2, and tanh(W_ax x + W_aa a_prev + b_a) is a_next
    dtanh = da_next * (1 - a_next**2)
    da_prev = Waa_T @ dtanh  # eq. (8)
    return (da_prev,), columns.write(dtanh)


def parameter_backward(d, fields, p):
    """Eqs. (4)-(7) for every step at once: ``d`` is ``dtanh`` of every step as columns,
    ``(n_a, T * m)``, the cache fields are ``(T, ...)``.

    The sums over time and batch of eqs. (4)-(6) become one matrix product each. Returns
    ``(dxs, {"dWax", "dWaa", "dba"})`` with ``dxs`` of shape ``(T, n_x, m)``.
    """
    _, a_prev, xt = fields[:3]
    dxs = from_columns(transposed_product(p["Wax"], d), xt.shape[0])  # eq. (7)
    dWax = d @ as_columns(xt).T  # eq. (4)
    dWaa = d @ as_columns(a_prev).T  # eq. (5)
    dba = jnp.sum(d, axis=1, keepdims=True)  # eq. (6)
    return dxs, {"dWax": dWax, "dWaa": dWaa, "dba": dba}


#: the sequence forward's split of the cell forward: see :class:`jaxrnn.unroll.Recurrence`
RECURRENCE = Recurrence(input_projection, recurrent_weights, step, ("Wya", "by"), n_state=1)


def rnn_forward(x, a0, parameters):
    """The basic RNN over a whole sequence (RNN document, exercise 2), a ``lax.scan``.

    Arguments:
        x: inputs for every step, ``(n_x, m, T_x)``.
        a0: initial hidden state, ``(n_a, m)``.
        parameters: as for :func:`rnn_cell_forward`.

    Returns:
        ``(a, y_pred, caches)``: hidden states ``(n_a, m, T_x)``, predictions
        ``(n_y, m, T_x)`` and ``caches = (per-step caches, x)``; ``caches[0][t]`` is the cell
        cache of step ``t``.
    """
    x, a0, p = _checked("rnn_forward", [("x", x, "n_x m T_x"), ("a0", a0, "n_a m")], parameters)
    y_pred, states, steps = sequence_forward(RECURRENCE, x, a0, p)
    return states[0], y_pred, (steps, x)


def rnn_backward(da, caches):
    """Backpropagation through time for the basic RNN (RNN document, exercise 6).

    Arguments:
        da: upstream gradients of the hidden states, ``(n_a, m, T_da)``. ``T_da`` may be less
            than ``T_x``: the later hidden states then get no upstream gradient.
        caches: the ``caches`` returned by :func:`rnn_forward`.

    Returns:
        dict with ``dx (n_x, m, T_x)``, ``da0 (n_a, m)``, ``dWax (n_a, n_x)``,
        ``dWaa (n_a, n_a)``, ``dba (n_a, 1)``.
    """
    return sequence_backward(
        "rnn_backward", da, caches, cache_fields=CACHE_FIELDS,
        parameter_shapes=PARAMETER_SHAPES, recurrence=RECURRENCE,
        step_backward=step_backward, parameter_backward=parameter_backward, keys=GRADIENT_KEYS,
    )  # fmt: skip
