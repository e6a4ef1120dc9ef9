r"""minLSTM (Feng et al., 2024, "Were RNNs All We Needed?"): cell and sequence, forward and
hand-derived backward, in the documents' style; over time, a parallel scan.

Its gates and candidate read the input alone, and the gates are normalised to sum to one, so
the state is *linear* in the previous one, :math:`a_t = \lambda_t \odot a_{t-1} + u_t` with
:math:`\lambda_t = f'_t` and :math:`u_t = i'_t \odot \tilde h_t` (:mod:`jaxrnn._core.linear`).
Forward, for one step: (ML1)-(ML6) and the documents' prediction; backward, from
``da_next``: (ML7)-(ML19), the output layer outside it, as in the documents. ``dft`` and
``dit`` are the gradients at the gates' pre-activations (the documents' style), ``dfpt`` and
``dipt`` at the normalised gates, ``dhht`` at the candidate. Each equation with its number;
the derivation is ``docs/derivations/minlstm.md``:

.. math::
    f_t = \sigma(W_f x_t + b_f) \tag{ML1}

    i_t = \sigma(W_i x_t + b_i) \tag{ML2}

    \tilde h_t = W_h x_t + b_h \tag{ML3}

    f'_t = f_t / (f_t + i_t) \tag{ML4}

    i'_t = i_t / (f_t + i_t) \tag{ML5}

    a_{next} = f'_t * a_{prev} + i'_t * \tilde h_t \tag{ML6}

    \hat y = \mathrm{softmax}(W_y a_{next} + b_y) \tag{prediction}

    df'_t = da_{next} * a_{prev} \tag{ML7}

    di'_t = da_{next} * \tilde h_t \tag{ML8}

    d\tilde h_t = da_{next} * i'_t \tag{ML9}

    df_t = (df'_t - di'_t) * i_t / (f_t + i_t)^2 * f_t * (1 - f_t) \tag{ML10}

    di_t = (di'_t - df'_t) * f_t / (f_t + i_t)^2 * i_t * (1 - i_t) \tag{ML11}

    da_{prev} = da_{next} * f'_t \tag{ML12}

    dW_f = df_t \, x_t^T \tag{ML13}

    db_f = \sum_{batch} df_t \tag{ML14}

    dW_i = di_t \, x_t^T \tag{ML15}

    db_i = \sum_{batch} di_t \tag{ML16}

    dW_h = d\tilde h_t \, x_t^T \tag{ML17}

    db_h = \sum_{batch} d\tilde h_t \tag{ML18}

    dx_t = W_f^T df_t + W_i^T di_t + W_h^T d\tilde h_t \tag{ML19}

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wf, Wi, Wh (n_a, n_x)``, ``bf, bi, bh (n_a,
1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``; the parameter names are the paper's reference code's.

The cell functions run step by step in the documents' loops (:data:`MINLSTM`, a
:class:`jaxrnn.Cell`); :func:`minlstm_parallel_forward` and :func:`minlstm_parallel_backward`
run the same equations for all steps at once around one parallel scan each way, tested
equal to them.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn._core import linear
from jaxrnn._core.arguments import checked_cell_cache
from jaxrnn._core.cell import Cell, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn.activations import sigmoid, softmax

#: the equations of the docstring above, ``{"(ML10)": latex}``
EQUATIONS = equations(__doc__)

#: the parameters and their shapes, in dictionary order
PARAMETER_SHAPES = {
    "Wf": "n_a n_x", "bf": "n_a 1", "Wi": "n_a n_x", "bi": "n_a 1", "Wh": "n_a n_x",
    "bh": "n_a 1", "Wy": "n_y n_a", "by": "n_y 1",
}  # fmt: skip


class MinLSTMCache(NamedTuple):
    """One step's cache: ``(a_next, a_prev, ft, it, hht, xt, parameters)``."""

    a_next: object
    a_prev: object
    ft: object
    it: object
    hht: object
    xt: object
    parameters: dict


#: the cell cache's fields before ``parameters``, and their shapes
CACHE_FIELDS = {"a_next": "n_a m", "a_prev": "n_a m", "ft": "n_a m", "it": "n_a m",
                "hht": "n_a m", "xt": "n_x m"}  # fmt: skip


def minlstm_cell_forward(xt, a_prev, parameters):
    """One minLSTM step: (ML1)-(ML6) and the prediction.

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wf, Wi, Wh (n_a, n_x)``, ``bf, bi, bh (n_a, 1)``,
            ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)``, ``cache`` a :class:`MinLSTMCache`.
    """
    data = [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")]
    xt, a_prev, p = MINLSTM.validated("minlstm_cell_forward", data, parameters)
    ft = sigmoid(p["Wf"] @ xt + p["bf"])  # (ML1)
    it = sigmoid(p["Wi"] @ xt + p["bi"])  # (ML2)
    hht = p["Wh"] @ xt + p["bh"]  # (ML3)
    fpt = ft / (ft + it)  # (ML4)
    ipt = it / (ft + it)  # (ML5)
    a_next = fpt * a_prev + ipt * hht  # (ML6)
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, yt_pred, MinLSTMCache(a_next, a_prev, ft, it, hht, xt, p)


def minlstm_cell_backward(da_next, cache):
    """Backward pass of one minLSTM step: (ML7)-(ML19).

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dWf, dWi, dWh (n_a, n_x)``,
        ``dbf, dbi, dbh (n_a, 1)``.
    """
    (da_next,), (a_next, a_prev, ft, it, hht, xt), p = checked_cell_cache(
        "minlstm_cell_backward", cache, [("da_next", da_next)], CACHE_FIELDS, PARAMETER_SHAPES
    )
    fpt, ipt = ft / (ft + it), it / (ft + it)  # (ML4), (ML5)
    dfpt = da_next * a_prev  # (ML7)
    dipt = da_next * hht  # (ML8)
    dhht = da_next * ipt  # (ML9)
    dft = (dfpt - dipt) * it / (ft + it) ** 2 * ft * (1 - ft)  # (ML10)
    dit = (dipt - dfpt) * ft / (ft + it) ** 2 * it * (1 - it)  # (ML11)
    da_prev = da_next * fpt  # (ML12)
    dWf = dft @ xt.T  # (ML13)
    dbf = jnp.sum(dft, axis=1, keepdims=True)  # (ML14)
    dWi = dit @ xt.T  # (ML15)
    dbi = jnp.sum(dit, axis=1, keepdims=True)  # (ML16)
    dWh = dhht @ xt.T  # (ML17)
    dbh = jnp.sum(dhht, axis=1, keepdims=True)  # (ML18)
    dxt = p["Wf"].T @ dft + p["Wi"].T @ dit + p["Wh"].T @ dhht  # (ML19)
    return {"dxt": dxt, "da_prev": da_prev, "dWf": dWf, "dbf": dbf, "dWi": dWi, "dbi": dbi,
            "dWh": dWh, "dbh": dbh}  # fmt: skip


#: the equations each output of the cell functions depends on
EQUATIONS_OF = {
    "ft": ("(ML1)",), "it": ("(ML2)",), "hht": ("(ML3)",),
    "a_next": ("(ML1)", "(ML2)", "(ML3)", "(ML4)", "(ML5)", "(ML6)"),
    "yt_pred": ("(ML1)", "(ML2)", "(ML3)", "(ML4)", "(ML5)", "(ML6)", "prediction"),
    "dxt": ("(ML7)", "(ML8)", "(ML9)", "(ML10)", "(ML11)", "(ML19)"),
    "da_prev": ("(ML12)",),
    "dWf": ("(ML7)", "(ML8)", "(ML10)", "(ML13)"), "dbf": ("(ML7)", "(ML8)", "(ML10)", "(ML14)"),
    "dWi": ("(ML7)", "(ML8)", "(ML11)", "(ML15)"), "dbi": ("(ML7)", "(ML8)", "(ML11)", "(ML16)"),
    "dWh": ("(ML9)", "(ML17)"), "dbh": ("(ML9)", "(ML18)"),
}  # fmt: skip


def minlstm_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """minLSTM over a whole sequence, step by step as the documents' loops run a cell:
    ``(a, y_pred, caches)`` (see :func:`jaxrnn.rnn_forward`)."""
    return sequence_forward(MINLSTM, x, a0, parameters, lengths=lengths, reverse=reverse)


def minlstm_backward(da, caches):
    """Backpropagation through time for minLSTM, step by step: (ML7)-(ML19) summed over the
    steps (see :func:`jaxrnn.rnn_backward`)."""
    return sequence_backward(MINLSTM, da, caches)


# The parallel path: the same equations for all steps at once, around one parallel scan.


def coefficients(xs, p):
    """(ML1)-(ML5) for every step, ``xs (T, n_x, m)``: ``λ = f'``, ``u = i' h̃`` of (ML6)."""
    ft = sigmoid(jnp.einsum("an,tnm->tam", p["Wf"], xs) + p["bf"])  # (ML1)
    it = sigmoid(jnp.einsum("an,tnm->tam", p["Wi"], xs) + p["bi"])  # (ML2)
    hht = jnp.einsum("an,tnm->tam", p["Wh"], xs) + p["bh"]  # (ML3)
    return ft / (ft + it), it / (ft + it) * hht, (ft, it, hht)  # (ML4), (ML5)


def coefficients_backward(dlam, du, aux, xs, p):
    """(ML8)-(ML11) and (ML13)-(ML19) for every step at once, from ``∂λ = df'`` (ML7) and
    ``∂u``."""
    ft, it, hht = aux
    dfpt = dlam  # (ML7)
    dipt = du * hht  # (ML8)
    dhht = du * it / (ft + it)  # (ML9)
    dft = (dfpt - dipt) * it / (ft + it) ** 2 * ft * (1 - ft)  # (ML10)
    dit = (dipt - dfpt) * ft / (ft + it) ** 2 * it * (1 - it)  # (ML11)
    dparams = {}
    for key, d in (("f", dft), ("i", dit), ("h", dhht)):  # (ML13)-(ML18), summed over the steps
        dparams[f"dW{key}"] = jnp.einsum("tam,tnm->an", d, xs)
        dparams[f"db{key}"] = jnp.sum(d, axis=(0, 2))[:, None]
    dxs = sum(jnp.einsum("an,tam->tnm", p[f"W{key}"], d)
              for key, d in (("f", dft), ("i", dit), ("h", dhht)))  # (ML19)  # fmt: skip
    return dxs, dparams


#: minLSTM as a linear recurrence, for :mod:`jaxrnn._core.linear`
LINEAR = linear.Linear(coefficients, coefficients_backward)


def minlstm_parallel_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """:func:`minlstm_forward` by one parallel scan: ``(a, y_pred, cache)``, the cache for
    :func:`minlstm_parallel_backward`."""
    return linear.sequence_forward(MINLSTM, LINEAR, x, a0, parameters, lengths, reverse)


def minlstm_parallel_backward(da, cache):
    """:func:`minlstm_backward` by one reverse parallel scan: ``{"dx", "da0", "dWf", ...}``."""
    return linear.sequence_backward(MINLSTM, LINEAR, da, cache)


#: minLSTM as a cell: its sequence functions, twins, loss and checks
MINLSTM = Cell(name="minlstm", cell_forward=minlstm_cell_forward,
               cell_backward=minlstm_cell_backward, parameter_shapes=PARAMETER_SHAPES,
               output=("Wy", "by"), cache=MinLSTMCache, cache_fields=CACHE_FIELDS,
               linear=LINEAR, forward=minlstm_forward, backward=minlstm_backward)  # fmt: skip


__all__ = [
    "CACHE_FIELDS", "EQUATIONS", "EQUATIONS_OF", "LINEAR", "MINLSTM", "PARAMETER_SHAPES",
    "MinLSTMCache", "coefficients", "coefficients_backward", "minlstm_backward",
    "minlstm_cell_backward", "minlstm_cell_forward", "minlstm_forward",
    "minlstm_parallel_backward", "minlstm_parallel_forward",
]  # fmt: skip
