r"""The basic RNN of the RNN document: cell and sequence, forward and hand-derived backward.

Forward, for one step: the RNN document's eq. (1) and the prediction. Backward, from
:math:`da_{next} = \partial J / \partial a^{\langle t \rangle}`, eqs. (2)-(8); the output
layer is not part of it, as in the document. Each equation in the document's form and number;
``jaxrnn check FILE`` cites them from here:

.. math::
    a^{\langle t \rangle} = \tanh(W_{ax} x^{\langle t \rangle} + W_{aa} a^{\langle t-1 \rangle} +
        b_{a}) \tag{1}

    \hat y^{\langle t \rangle} = \mathrm{softmax}(W_{ya} a^{\langle t \rangle} + b_y)
        \tag{prediction}

    \frac{\partial \tanh(x)}{\partial x} = 1 - \tanh^2(x) \tag{2}

    dtanh = da_{next} * (1 - \tanh^2(W_{ax} x^{\langle t \rangle} + W_{aa} a^{\langle t-1 \rangle}
        + b_{a})) \tag{3}

    dW_{ax} = dtanh \cdot x^{\langle t \rangle T} \tag{4}

    dW_{aa} = dtanh \cdot a^{\langle t-1 \rangle T} \tag{5}

    db_a = \sum_{batch} dtanh \tag{6}

    dx^{\langle t \rangle} = W_{ax}^T \cdot dtanh \tag{7}

    da_{prev} = W_{aa}^T \cdot dtanh \tag{8}

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``,
``Wya (n_y, n_a)``, ``ba (n_a, 1)``, ``by (n_y, 1)``; sequences add a last axis ``T_x``.

The module reads top to bottom as the document does: the cell forward and backward in the
document's form, one equation a line; the sequence functions; then the fast path the sequence
functions run, the same equations with every step's ``W_ax x`` one product before the loop and
eqs. (4)-(7) of every step one product each after it (tested equal to the cell functions).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn._core.arguments import checked_cell_cache
from jaxrnn._core.cell import Cell, FastPath, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn._core.layout import as_columns, from_columns, transposed_product
from jaxrnn.activations import softmax

#: the parameters and their shapes, in the documents' dictionary order
PARAMETER_SHAPES = {
    "Wax": "n_a n_x",
    "Waa": "n_a n_a",
    "Wya": "n_y n_a",
    "ba": "n_a 1",
    "by": "n_y 1",
}


class RNNCache(NamedTuple):
    """The cell cache of :func:`rnn_cell_forward`, the document's ``(a_next, a_prev, xt,
    parameters)``."""

    a_next: object
    a_prev: object
    xt: object
    parameters: dict


#: the cell cache's fields before ``parameters``, and their shapes
CACHE_FIELDS = {"a_next": "n_a m", "a_prev": "n_a m", "xt": "n_x m"}


def rnn_cell_forward(xt, a_prev, parameters):
    """One step of the basic RNN (RNN document, exercise 1).

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``Wya (n_y, n_a)``,
            ``ba (n_a, 1)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)``: ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and
        ``cache = (a_next, a_prev, xt, parameters)``, an :class:`RNNCache`.

    >>> import numpy as np
    >>> p = {"Wax": np.ones((2, 3)), "Waa": np.eye(2), "Wya": np.ones((1, 2)),
    ...      "ba": np.zeros((2, 1)), "by": np.zeros((1, 1))}
    >>> a_next, yt_pred, cache = rnn_cell_forward(np.zeros((3, 4)), np.zeros((2, 4)), p)
    >>> a_next.shape, yt_pred.shape, len(cache)
    ((2, 4), (1, 4), 4)
    """
    data = [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")]
    xt, a_prev, p = RNN.validated("rnn_cell_forward", data, parameters)
    a_next = jnp.tanh(p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"])  # eq. (1)
    yt_pred = softmax(p["Wya"] @ a_next + p["by"])
    return a_next, yt_pred, RNNCache(a_next, a_prev, xt, p)


def rnn_cell_backward(da_next, cache):
    """Backward pass of one RNN step (RNN document, exercise 5): eqs. (2)-(8).

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
    # eq. (2), tanh'(z) = 1 - tanh(z)^2, at z = W_ax x + W_aa a_prev + b_a, whose tanh is a_next
    dtanh = da_next * (1 - a_next**2)  # eq. (3)
    dWax = dtanh @ xt.T  # eq. (4)
    dWaa = dtanh @ a_prev.T  # eq. (5)
    dba = jnp.sum(dtanh, axis=1, keepdims=True)  # eq. (6)
    dxt = p["Wax"].T @ dtanh  # eq. (7)
    da_prev = p["Waa"].T @ dtanh  # eq. (8)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


#: the RNN document's equations, in its form, one line each (what ``jaxrnn check FILE`` cites)
#: the equations of the docstring above, ``{"(7)": latex}``: what ``jaxrnn check FILE`` cites
EQUATIONS = equations(__doc__)
#: the equations each output of the cell functions depends on (eq. (2) is inside (3))
EQUATIONS_OF = {
    "a_next": ("(1)",), "yt_pred": ("(1)", "prediction"),
    "dxt": ("(3)", "(7)"), "da_prev": ("(3)", "(8)"), "dWax": ("(3)", "(4)"),
    "dWaa": ("(3)", "(5)"), "dba": ("(3)", "(6)"),
}  # fmt: skip


def rnn_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """The basic RNN over a whole sequence (RNN document, exercise 2), a ``lax.scan``.

    ``x (n_x, m, T_x)`` are the inputs of every step, ``a0 (n_a, m)`` the initial hidden state,
    ``parameters`` as for :func:`rnn_cell_forward`. Returns ``(a, y_pred, caches)``: hidden
    states ``(n_a, m, T_x)``, predictions ``(n_y, m, T_x)`` and ``caches = (per-step caches,
    x)``, ``caches[0][t]`` the cell cache of step ``t``. ``lengths`` (one per example) and
    ``reverse`` are :func:`jaxrnn._core.cell.sequence_forward`'s, as for every cell.
    """
    return sequence_forward(RNN, x, a0, parameters, lengths=lengths, reverse=reverse)


def rnn_backward(da, caches):
    """Backpropagation through time for the basic RNN (RNN document, exercise 6).

    ``da (n_a, m, T_da)`` is the gradient of the first ``T_da <= T_x`` hidden states (the later
    ones get none), ``caches`` what :func:`rnn_forward` returned. Returns ``dx (n_x, m, T_x)``,
    ``da0 (n_a, m)``, ``dWax (n_a, n_x)``, ``dWaa (n_a, n_a)``, ``dba (n_a, 1)``: eqs. (2)-(8)
    summed over the steps (:func:`jaxrnn._core.cell.sequence_backward`).
    """
    return sequence_backward(RNN, da, caches)


# The fast path: the same equations, with the products of all steps done at once.


def input_projection(xs, p):
    """``W_ax x + b_a`` of eq. (1) for every step at once: ``xs (T, n_x, m) -> (n_a, T m)``."""
    return p["Wax"] @ as_columns(xs) + p["ba"]


def recurrent_weights(p):
    """``W_aa`` and its transpose, formed once, outside the loops."""
    return {"W_a": p["Waa"], "W_a_T": p["Waa"].T}


def step(state, zx, w):
    """Eq. (1) of one step, given ``zx = W_ax x + b_a``. Returns ``((a_next,), ())``."""
    (a_prev,) = state
    return (jnp.tanh(w["W_a"] @ a_prev + zx),), ()  # eq. (1)


def step_backward(dstate, cache, w, columns):
    """The per-step part of the backward: eqs. (2)-(3) and (8); writes ``dtanh`` into
    ``columns``. Returns ``((da_prev,), columns)``."""
    (da_next,) = dstate
    dtanh = da_next * (1 - cache.a_next**2)  # eqs. (2)-(3)
    da_prev = w["W_a_T"] @ dtanh  # eq. (8)
    return (da_prev,), columns.write(dtanh)


def parameter_backward(dtanh, caches, p):
    """Eqs. (4)-(7) for every step at once, from ``dtanh (n_a, T m)`` of every step: the sums
    over time and batch are one matrix product each. Returns ``(dxs (T, n_x, m), {...})``."""
    dxs = from_columns(transposed_product(p["Wax"], dtanh), caches.xt.shape[0])  # eq. (7)
    dWax = dtanh @ as_columns(caches.xt).T  # eq. (4)
    dWaa = dtanh @ as_columns(caches.a_prev).T  # eq. (5)
    dba = jnp.sum(dtanh, axis=1, keepdims=True)  # eq. (6)
    return dxs, {"dWax": dWax, "dWaa": dWaa, "dba": dba}


#: the fast path above, for the sequence functions
# fmt: off
FAST = FastPath(input_projection, recurrent_weights, step, step_backward, parameter_backward,
                rows=lambda n_a: n_a)

#: the RNN document's cell: its sequence functions, twins, loss and checks
RNN = Cell(name="rnn", cell_forward=rnn_cell_forward, cell_backward=rnn_cell_backward,
           parameter_shapes=PARAMETER_SHAPES, output=("Wya", "by"), cache=RNNCache,
           cache_fields=CACHE_FIELDS, forward=rnn_forward, backward=rnn_backward, fast=FAST)
# fmt: on


__all__ = [
    "RNN", "CACHE_FIELDS", "EQUATIONS", "EQUATIONS_OF", "PARAMETER_SHAPES", "RNNCache",
    "input_projection", "parameter_backward", "recurrent_weights", "rnn_backward",
    "rnn_cell_backward", "rnn_cell_forward", "rnn_forward", "step", "step_backward"
]  # fmt: skip
