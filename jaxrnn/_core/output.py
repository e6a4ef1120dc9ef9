r"""The documents' output layer, for every step at once, and its hand-derived backward.

.. math::
    \hat y^{\langle t \rangle} = \mathrm{softmax}(W_y a^{\langle t \rangle} + b_y)

Every cell predicts through it (the RNN's :math:`W_y` is ``Wya``); the documents' cell
forwards compute it step by step, the sequence functions for all steps at once. Equations
(L5)-(L7) are those of :mod:`jaxrnn.loss`.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxrnn.activations import softmax


def predictions(a, Wy, by):
    """``softmax(Wy a + by)`` of every step, ``a (n_a, m, T) -> (n_y, m, T)``.

    Time and batch are adjacent in the documents' layout, so this is one matrix product.
    """
    n_a, m, T = a.shape
    return softmax(Wy @ a.reshape(n_a, m * T) + by).reshape(-1, m, T)


def output_layer_backward(dz, a, Wy):
    """Equations (L5)-(L7): from the logits' gradient to ``dWy``, ``dby`` and ``da``.

    Arguments:
        dz: gradient of the loss at the logits, ``(n_y, m, T_x)``.
        a: hidden states ``(n_a, m, T_x)``.
        Wy: the output weight ``(n_y, n_a)``.

    Returns:
        ``(da, dWy, dby)`` of shapes ``(n_a, m, T_x)``, ``(n_y, n_a)``, ``(n_y, 1)``.
    """
    dWy = jnp.einsum("ymt,amt->ya", dz, a)  # (L5)
    dby = jnp.sum(dz, axis=(1, 2))[:, None]  # (L6)
    da = jnp.einsum("ya,ymt->amt", Wy, dz)  # (L7)
    return da, dWy, dby
