"""The documents' two helper functions (``rnn_utils.py``)."""

import jax
import jax.numpy as jnp


def sigmoid(x):
    r"""Logistic function, :math:`\sigma(x) = 1 / (1 + e^{-x})`, elementwise.

    Computed in the overflow-free form of ``jax.nn.sigmoid``: the same values as the documents'
    ``1 / (1 + np.exp(-x))`` wherever that one is finite, and 0 or 1, not a warning, far out.

    >>> float(sigmoid(0.0))
    0.5
    """
    return jax.nn.sigmoid(x)


def softmax(x):
    r"""Softmax over axis 0: each column of ``x`` (one example) becomes a distribution.

    .. math::
        \mathrm{softmax}(x)_{ij} = e^{x_{ij} - \max_k x_{kj}} / \sum_l e^{x_{lj} - \max_k x_{kj}}

    Each column is shifted by its own maximum. The documents shift by the maximum of the whole
    array, which gives the same values unless a column lies so far below that maximum that all
    its exponentials underflow and it becomes 0/0 = NaN; here such a column stays exact.

    >>> softmax(jnp.array([[0.0, -1000.0], [0.0, -1000.0]])).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    x = jnp.asarray(x)
    e_x = jnp.exp(x - jnp.max(x, axis=0, keepdims=True))
    return e_x / jnp.sum(e_x, axis=0, keepdims=True)


__all__ = [
    "sigmoid", "softmax"
]  # fmt: skip
