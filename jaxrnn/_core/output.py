r"""A cell's output layer, for every step at once, and its hand-derived backward.

The documents' cells predict through the softmax layer

.. math::
    \hat y^{\langle t \rangle} = \mathrm{softmax}(W_y a^{\langle t \rangle} + b_y)

(the RNN's :math:`W_y` is ``Wya``): the documents' cell forwards compute it step by step, the
sequence functions for all steps at once. Equations (L5)-(L7) are those of :mod:`jaxrnn.loss`.
A cell may read its state out otherwise (the LRU's real readout :math:`y = \mathrm{Re}(C a) +
D x`): an :class:`Output` says how, and the loss, the layers and the custom VJP take it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn.activations import softmax


class Output(NamedTuple):
    """How a cell reads out its state: its logits, and their hand-derived backward.

    Attributes:
        keys: the output layer's parameter keys.
        logits: ``(a, x, parameters) -> z``: ``a (n_a, m, T)`` and ``x (n_x, m, T)`` to ``z
            (n_y, m, T)``, real, every step at once (the leading axes of one step work too).
        backward: ``(dz, a, x, parameters) -> (da, dx, {key: gradient})``: from the logits'
            gradient to the state's (in JAX's convention where the state is complex), the
            input's (``None`` where ``z`` does not depend on ``x``) and every key's.
        softmax: the cell's prediction is ``softmax(z)`` (the documents' layer); otherwise
            ``z`` itself, and the loss's softmax is the loss's alone.
        formula: the prediction in words, for messages: ``"softmax(Wy a_next + by)"``.
    """

    keys: tuple[str, ...]
    logits: Callable
    backward: Callable
    softmax: bool
    formula: str

    def predict(self, a, x, parameters):
        """The prediction of every step: ``softmax(z)`` or ``z``."""
        z = self.logits(a, x, parameters)
        return softmax(z) if self.softmax else z


def softmax_layer(w: str = "Wy", b: str = "by") -> Output:
    """The documents' output layer over the keys ``w`` and ``b``."""
    return Output(
        (w, b),
        lambda a, x, p: logits(a, p[w], p[b]),
        lambda dz, a, x, p: _softmax_backward(dz, a, p[w], w, b),
        True,
        f"softmax({w} a_next + {b})",
    )


def logits(a, Wy, by):
    """``Wy a + by`` of every step, ``a (n_a, m, T) -> (n_y, m, T)`` (or one step's).

    Time and batch are adjacent in the documents' layout, so this is one matrix product.
    """
    n_a, *rest = a.shape
    return (Wy @ a.reshape(n_a, -1) + by).reshape(-1, *rest)


def _softmax_backward(dz, a, Wy, w, b):
    da, dWy, dby = output_layer_backward(dz, a, Wy)
    return da, None, {w: dWy, b: dby}


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
