r"""minGRU (Feng et al., 2024, "Were RNNs All We Needed?"): cell and sequence, forward and
hand-derived backward, in the documents' style; over time, a parallel scan.

Its gate and candidate read the input alone, so the state is *linear* in the previous one,
:math:`a_t = \lambda_t \odot a_{t-1} + u_t` with :math:`\lambda_t = 1 - z_t` and
:math:`u_t = z_t \odot \tilde h_t` (:mod:`jaxrnn._core.linear`). Forward, for one step:
(MG1)-(MG3) and the documents' prediction; backward, from ``da_next``: (MG4)-(MG11), the
output layer outside it, as in the documents. ``dzt`` is the gradient at the gate's
pre-activation (the documents' ``dft`` style), ``dhht`` at the candidate. Each equation with
its number; the derivation is ``docs/derivations/mingru.md``:

.. math::
    z_t = \sigma(W_z x_t + b_z) \tag{MG1}

    \tilde h_t = W_h x_t + b_h \tag{MG2}

    a_{next} = (1 - z_t) * a_{prev} + z_t * \tilde h_t \tag{MG3}

    \hat y = \mathrm{softmax}(W_y a_{next} + b_y) \tag{prediction}

    dz_t = da_{next} * (\tilde h_t - a_{prev}) * z_t * (1 - z_t) \tag{MG4}

    d\tilde h_t = da_{next} * z_t \tag{MG5}

    da_{prev} = da_{next} * (1 - z_t) \tag{MG6}

    dW_z = dz_t \, x_t^T \tag{MG7}

    db_z = \sum_{batch} dz_t \tag{MG8}

    dW_h = d\tilde h_t \, x_t^T \tag{MG9}

    db_h = \sum_{batch} d\tilde h_t \tag{MG10}

    dx_t = W_z^T dz_t + W_h^T d\tilde h_t \tag{MG11}

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wz, Wh (n_a, n_x)``, ``bz, bh (n_a, 1)``,
``Wy (n_y, n_a)``, ``by (n_y, 1)``; the parameter names are the paper's reference code's.

The cell functions run step by step in the documents' loops (:data:`MINGRU`, a
:class:`jaxrnn.Cell`: lengths, reverse, layers, the custom VJP, the loss and the checker take
it); :func:`mingru_parallel_forward` and :func:`mingru_parallel_backward` run the same
equations for all steps at once around one parallel scan each way, tested equal to them.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn._core import linear
from jaxrnn._core.arguments import checked_cell_cache
from jaxrnn._core.cell import Cell, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn.activations import sigmoid, softmax

#: the equations of the docstring above, ``{"(MG4)": latex}``
EQUATIONS = equations(__doc__)

#: the parameters and their shapes, in dictionary order
PARAMETER_SHAPES = {
    "Wz": "n_a n_x", "bz": "n_a 1", "Wh": "n_a n_x", "bh": "n_a 1", "Wy": "n_y n_a", "by": "n_y 1",
}  # fmt: skip


class MinGRUCache(NamedTuple):
    """One step's cache: ``(a_next, a_prev, zt, hht, xt, parameters)``."""

    a_next: object
    a_prev: object
    zt: object
    hht: object
    xt: object
    parameters: dict


#: the cell cache's fields before ``parameters``, and their shapes
CACHE_FIELDS = {"a_next": "n_a m", "a_prev": "n_a m", "zt": "n_a m", "hht": "n_a m",
                "xt": "n_x m"}  # fmt: skip


def mingru_cell_forward(xt, a_prev, parameters):
    """One minGRU step: (MG1)-(MG3) and the prediction.

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wz, Wh (n_a, n_x)``, ``bz, bh (n_a, 1)``, ``Wy (n_y, n_a)``,
            ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)``, ``cache`` a :class:`MinGRUCache`.
    """
    data = [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")]
    xt, a_prev, p = MINGRU.validated("mingru_cell_forward", data, parameters)
    zt = sigmoid(p["Wz"] @ xt + p["bz"])  # (MG1)
    hht = p["Wh"] @ xt + p["bh"]  # (MG2)
    a_next = (1 - zt) * a_prev + zt * hht  # (MG3)
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, yt_pred, MinGRUCache(a_next, a_prev, zt, hht, xt, p)


def mingru_cell_backward(da_next, cache):
    """Backward pass of one minGRU step: (MG4)-(MG11).

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dWz, dWh (n_a, n_x)``,
        ``dbz, dbh (n_a, 1)``.
    """
    (da_next,), (a_next, a_prev, zt, hht, xt), p = checked_cell_cache(
        "mingru_cell_backward", cache, [("da_next", da_next)], CACHE_FIELDS, PARAMETER_SHAPES
    )
    dzt = da_next * (hht - a_prev) * zt * (1 - zt)  # (MG4)
    dhht = da_next * zt  # (MG5)
    da_prev = da_next * (1 - zt)  # (MG6)
    dWz = dzt @ xt.T  # (MG7)
    dbz = jnp.sum(dzt, axis=1, keepdims=True)  # (MG8)
    dWh = dhht @ xt.T  # (MG9)
    dbh = jnp.sum(dhht, axis=1, keepdims=True)  # (MG10)
    dxt = p["Wz"].T @ dzt + p["Wh"].T @ dhht  # (MG11)
    return {"dxt": dxt, "da_prev": da_prev, "dWz": dWz, "dbz": dbz, "dWh": dWh, "dbh": dbh}


#: the equations each output of the cell functions depends on
EQUATIONS_OF = {
    "zt": ("(MG1)",), "hht": ("(MG2)",), "a_next": ("(MG1)", "(MG2)", "(MG3)"),
    "yt_pred": ("(MG1)", "(MG2)", "(MG3)", "prediction"),
    "dxt": ("(MG4)", "(MG5)", "(MG11)"), "da_prev": ("(MG6)",),
    "dWz": ("(MG4)", "(MG7)"), "dbz": ("(MG4)", "(MG8)"),
    "dWh": ("(MG5)", "(MG9)"), "dbh": ("(MG5)", "(MG10)"),
}  # fmt: skip


def mingru_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """minGRU over a whole sequence, step by step as the documents' loops run a cell:
    ``(a, y_pred, caches)`` (see :func:`jaxrnn.rnn_forward`)."""
    return sequence_forward(MINGRU, x, a0, parameters, lengths=lengths, reverse=reverse)


def mingru_backward(da, caches):
    """Backpropagation through time for minGRU, step by step: (MG4)-(MG11) summed over the
    steps (see :func:`jaxrnn.rnn_backward`)."""
    return sequence_backward(MINGRU, da, caches)


# The parallel path: the same equations for all steps at once, around one parallel scan.


def coefficients(xs, p):
    """(MG1)-(MG2) for every step, ``xs (T, n_x, m)``: ``λ = 1 - z``, ``u = z h̃`` of (MG3)."""
    zt = sigmoid(jnp.einsum("an,tnm->tam", p["Wz"], xs) + p["bz"])  # (MG1)
    hht = jnp.einsum("an,tnm->tam", p["Wh"], xs) + p["bh"]  # (MG2)
    return 1 - zt, zt * hht, (zt, hht)


def coefficients_backward(dlam, du, aux, xs, p):
    """(MG4), (MG5) and (MG7)-(MG11) for every step at once, from ``∂λ`` and ``∂u``."""
    zt, hht = aux
    dzt = (du * hht - dlam) * zt * (1 - zt)  # (MG4): λ = 1 - z, u = z h̃
    dhht = du * zt  # (MG5)
    dparams = {
        "dWz": jnp.einsum("tam,tnm->an", dzt, xs),  # (MG7), summed over the steps
        "dbz": jnp.sum(dzt, axis=(0, 2))[:, None],  # (MG8)
        "dWh": jnp.einsum("tam,tnm->an", dhht, xs),  # (MG9)
        "dbh": jnp.sum(dhht, axis=(0, 2))[:, None],  # (MG10)
    }
    dxs = jnp.einsum("an,tam->tnm", p["Wz"], dzt) + jnp.einsum("an,tam->tnm", p["Wh"], dhht)
    return dxs, dparams  # (MG11)


#: minGRU as a linear recurrence, for :mod:`jaxrnn._core.linear`
LINEAR = linear.Linear(coefficients, coefficients_backward)


def mingru_parallel_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """:func:`mingru_forward` by one parallel scan: ``(a, y_pred, cache)``, the cache for
    :func:`mingru_parallel_backward` (a :class:`jaxrnn._core.linear.LinearCache`)."""
    return linear.sequence_forward(MINGRU, LINEAR, x, a0, parameters, lengths, reverse)


def mingru_parallel_backward(da, cache):
    """:func:`mingru_backward` by one reverse parallel scan: ``{"dx", "da0", "dWz", ...}``."""
    return linear.sequence_backward(MINGRU, LINEAR, da, cache)


#: minGRU as a cell: its sequence functions, twins, loss and checks
MINGRU = Cell(name="mingru", cell_forward=mingru_cell_forward, cell_backward=mingru_cell_backward,
              parameter_shapes=PARAMETER_SHAPES, output=("Wy", "by"), cache=MinGRUCache,
              cache_fields=CACHE_FIELDS, linear=LINEAR, forward=mingru_forward,
              backward=mingru_backward)  # fmt: skip


__all__ = [
    "CACHE_FIELDS", "EQUATIONS", "EQUATIONS_OF", "LINEAR", "MINGRU", "PARAMETER_SHAPES",
    "MinGRUCache", "coefficients", "coefficients_backward", "mingru_backward",
    "mingru_cell_backward", "mingru_cell_forward", "mingru_forward", "mingru_parallel_backward",
    "mingru_parallel_forward",
]  # fmt: skip
