r"""The full GRU of the course, in the documents' style: cell and sequence, forward and backward.

Forward, for one step, with :math:`c^{\langle t-1 \rangle} = a^{\langle t-1 \rangle}`:
equations (G1)-(G5) and the prediction. Backward, from ``da_next``: equations (G6)-(G18)
(why each holds: ``docs/derivations/gru.md``); the output layer is not part of it.
:math:`d\gamma_r`, :math:`d\gamma_u` and :math:`d\tilde c` (``drt``, ``dut``, ``dcct``) are
the gradients at the gates' and the candidate's pre-activations, as in the LSTM document; a
subscript :math:`{:n_a}` takes a gradient's first ``n_a`` rows, :math:`{n_a:}` the rest. Each
equation with its number; ``jaxrnn check --cell gru`` and the documentation cite them from here:

.. math::
    \Gamma_r = \sigma(W_r [c_{prev}; x_t] + b_r) \tag{G1}

    \Gamma_u = \sigma(W_u [c_{prev}; x_t] + b_u) \tag{G2}

    \tilde c = \tanh(W_c [\Gamma_r * c_{prev}; x_t] + b_c) \tag{G3}

    c_{next} = \Gamma_u * \tilde c + (1 - \Gamma_u) * c_{prev} \tag{G4}

    a_{next} = c_{next} \tag{G5}

    \hat y = \mathrm{softmax}(W_y a_{next} + b_y) \tag{prediction}

    d\tilde c = da_{next} * \Gamma_u * (1 - \tilde c^2) \tag{G6}

    d\gamma_u = da_{next} * (\tilde c - c_{prev}) * \Gamma_u * (1 - \Gamma_u) \tag{G7}

    d[\Gamma_r * c_{prev}; x_t] = W_c^T d\tilde c \tag{G8}

    d\gamma_r = d[\Gamma_r * c_{prev}; x_t]_{:n_a} * c_{prev} * \Gamma_r * (1 - \Gamma_r) \tag{G9}

    dW_c = d\tilde c \, [\Gamma_r * c_{prev}; x_t]^T \tag{G10}

    db_c = \sum_{batch} d\tilde c \tag{G11}

    dW_u = d\gamma_u [c_{prev}; x_t]^T \tag{G12}

    db_u = \sum_{batch} d\gamma_u \tag{G13}

    dW_r = d\gamma_r [c_{prev}; x_t]^T \tag{G14}

    db_r = \sum_{batch} d\gamma_r \tag{G15}

    d[c_{prev}; x_t]_{gates} = W_u^T d\gamma_u + W_r^T d\gamma_r \tag{G16}

    da_{prev} = da_{next} * (1 - \Gamma_u) + d[\Gamma_r * c_{prev}; x_t]_{:n_a} * \Gamma_r
        + d[c_{prev}; x_t]_{gates, :n_a} \tag{G17}

    dx_t = d[\Gamma_r * c_{prev}; x_t]_{n_a:} + d[c_{prev}; x_t]_{gates, n_a:} \tag{G18}

This is the "reset before the matrix product" form of the original GRU: the relevance gate
scales :math:`c_{prev}` before :math:`W_c` sees it. cuDNN, PyTorch and Flax use the "reset
after" form, :math:`\tanh(W_{cx} x + \Gamma_r * (W_{cc} c_{prev} + b_{cc}) + b_c)`, which is a
different function.

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wr, Wu, Wc (n_a, n_a + n_x)``,
``br, bu, bc (n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

As in ``rnn.py`` and ``lstm.py``: the cell functions in the document's form, one equation a
line; the sequence functions; then the fast path they run (tested equal to the cell functions).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn._core.arguments import checked_cell_cache
from jaxrnn._core.cell import Cell, FastPath, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn._core.layout import as_columns, from_columns, transposed_product
from jaxrnn.activations import sigmoid, softmax

#: the equations of the docstring above, ``{"(G7)": latex}``
EQUATIONS = equations(__doc__)

#: the parameters and their shapes, in dictionary order
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


class GRUCache(NamedTuple):
    """The cell cache of :func:`gru_cell_forward`: ``(a_next, a_prev, rt, ut, cct, xt,
    parameters)``, ``rt`` = Γr, ``ut`` = Γu, ``cct`` = c̃."""

    a_next: object
    a_prev: object
    rt: object
    ut: object
    cct: object
    xt: object
    parameters: dict


#: the cell cache's fields before ``parameters``, and their shapes
CACHE_FIELDS = {**{f: "n_a m" for f in GRUCache._fields[:5]}, "xt": "n_x m"}


def gru_cell_forward(xt, a_prev, parameters):
    """One GRU step: (G1)-(G5).

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state (= memory cell) at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wr, Wu, Wc (n_a, n_a + n_x)``, ``br, bu, bc (n_a, 1)``,
            ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)`` with ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and the
        7-tuple ``cache = (a_next, a_prev, rt, ut, cct, xt, parameters)``, a :class:`GRUCache`.

    >>> import numpy as np
    >>> p = {k: np.zeros((2, 5)) for k in ("Wr", "Wu", "Wc")}
    >>> p |= {k: np.zeros((2, 1)) for k in ("br", "bu", "bc")}
    >>> p |= {"Wy": np.zeros((1, 2)), "by": np.zeros((1, 1))}
    >>> a_next, yt_pred, cache = gru_cell_forward(np.ones((3, 4)), np.ones((2, 4)), p)
    >>> a_next.tolist()  # update gate 0.5 between candidate 0 and c_prev 1
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]
    """
    data = [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")]
    xt, a_prev, p = GRU.validated("gru_cell_forward", data, parameters)
    concat = jnp.concatenate([a_prev, xt], axis=0)
    rt = sigmoid(p["Wr"] @ concat + p["br"])  # (G1), relevance gate
    ut = sigmoid(p["Wu"] @ concat + p["bu"])  # (G2), update gate
    cct = jnp.tanh(p["Wc"] @ jnp.concatenate([rt * a_prev, xt], axis=0) + p["bc"])  # (G3)
    a_next = ut * cct + (1 - ut) * a_prev  # (G4) and (G5): a = c
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, yt_pred, GRUCache(a_next, a_prev, rt, ut, cct, xt, p)


def gru_cell_backward(da_next, cache):
    """Backward pass of one GRU step, equations (G6)-(G18) of the module docstring.

    Arguments:
        da_next: gradient with respect to ``a_next`` (which is ``c_next``), ``(n_a, m)``.
        cache: the 7-tuple returned by :func:`gru_cell_forward`.

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dWr, dWu, dWc (n_a, n_a + n_x)``
        and ``dbr, dbu, dbc (n_a, 1)``.
    """
    (da_next,), (a_next, a_prev, rt, ut, cct, xt), p = checked_cell_cache(
        "gru_cell_backward", cache, [("da_next", da_next)], CACHE_FIELDS, PARAMETER_SHAPES
    )
    n_a = a_next.shape[0]
    dcct = da_next * ut * (1 - cct**2)  # (G6), at the candidate's pre-activation
    dut = da_next * (cct - a_prev) * ut * (1 - ut)  # (G7), at the update gate's
    d_reset = p["Wc"].T @ dcct  # (G8), at [Γr * c_prev; x_t]
    drt = d_reset[:n_a] * a_prev * rt * (1 - rt)  # (G9), at the relevance gate's
    dWc = dcct @ jnp.concatenate([rt * a_prev, xt], axis=0).T  # (G10)
    dbc = jnp.sum(dcct, axis=1, keepdims=True)  # (G11)
    concat_T = jnp.concatenate([a_prev, xt], axis=0).T
    dWu = dut @ concat_T  # (G12)
    dbu = jnp.sum(dut, axis=1, keepdims=True)  # (G13)
    dWr = drt @ concat_T  # (G14)
    dbr = jnp.sum(drt, axis=1, keepdims=True)  # (G15)
    d_gates = p["Wu"].T @ dut + p["Wr"].T @ drt  # (G16), at [c_prev; x_t]
    da_prev = da_next * (1 - ut) + d_reset[:n_a] * rt + d_gates[:n_a]  # (G17)
    dxt = d_reset[n_a:] + d_gates[n_a:]  # (G18)
    return {
        "dxt": dxt, "da_prev": da_prev, "dWr": dWr, "dbr": dbr, "dWu": dWu, "dbu": dbu,
        "dWc": dWc, "dbc": dbc,
    }  # fmt: skip


def gru_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """The GRU over a whole sequence, a ``lax.scan`` of (G1)-(G5).

    Takes ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` and the parameters of :func:`gru_cell_forward`;
    returns ``(a, y_pred, caches)``, as :func:`jaxrnn.rnn_forward` does, with the 7-tuple cell
    caches of :func:`gru_cell_forward`.
    """
    return sequence_forward(GRU, x, a0, parameters, lengths=lengths, reverse=reverse)


def gru_backward(da, caches):
    """Backpropagation through time for the GRU: (G6)-(G18) in a reverse ``lax.scan``.

    Takes ``da (n_a, m, T_da)``, ``T_da <= T_x``, and the ``caches`` of :func:`gru_forward`;
    returns ``dx (n_x, m, T_x)``, ``da0 (n_a, m)``, ``dWr, dWu, dWc (n_a, n_a + n_x)`` and
    ``dbr, dbu, dbc (n_a, 1)``.
    """
    return sequence_backward(GRU, da, caches)


# The fast path: the same equations with the two gates stacked (relevance, update), the
# input's products of every step before the loop and (G10)-(G16), (G18) of every step after it.


def _gates_and_candidate(p, kind):
    """The relevance gate's, update gate's and candidate's weights (``kind="W"``) or biases
    (``"b"``), stacked in that order."""
    return jnp.concatenate([p[f"{kind}r"], p[f"{kind}u"], p[f"{kind}c"]], axis=0)


def input_projection(xs, p):
    """The input's part of (G1)-(G3) for every step at once, biases included:
    ``xs (T, n_x, m) -> (3 n_a, T m)``, rows: relevance gate, update gate, candidate."""
    return _input_weights(p) @ as_columns(xs) + _gates_and_candidate(p, "b")


def _input_weights(p):
    """The columns acting on ``xt`` of the three weights, stacked ``(3 n_a, n_x)``."""
    return _gates_and_candidate(p, "W")[:, p["Wc"].shape[0] :]


def recurrent_weights(p):
    """The weights on ``c_prev`` (the first ``n_a`` columns): both gates' stacked
    ``(2 n_a, n_a)`` and the candidate's ``(n_a, n_a)``, and their transposes."""
    n_a = p["Wc"].shape[0]
    W_a = jnp.concatenate([p["Wr"], p["Wu"]], axis=0)[:, :n_a]
    Wc_a = p["Wc"][:, :n_a]
    return {"W_a": W_a, "W_a_T": W_a.T, "Wc_a": Wc_a, "Wc_a_T": Wc_a.T}


def step(state, zx, w):
    """(G1)-(G5) of one step, given ``zx``, the step's :func:`input_projection`.

    Returns ``((a_next,), (rt, ut, cct))``.
    """
    (a_prev,) = state
    n_a = a_prev.shape[0]
    z = w["W_a"] @ a_prev + zx[: 2 * n_a]  # (G1), (G2): the state's part, both gates
    rt = sigmoid(z[:n_a])  # (G1), relevance gate
    ut = sigmoid(z[n_a:])  # (G2), update gate
    cct = jnp.tanh(w["Wc_a"] @ (rt * a_prev) + zx[2 * n_a :])  # (G3)
    a_next = ut * cct + (1 - ut) * a_prev  # (G4) and (G5): a = c
    return (a_next,), (rt, ut, cct)


def step_backward(dstate, cache, w, columns):
    """The per-step part of the backward: (G6)-(G9), (G17), with only the first ``n_a`` rows
    of (G8) and (G16). Writes ``drt, dut, dcct`` into ``columns``. Returns
    ``((da_prev,), columns)``."""
    (da_next,), n_a = dstate, dstate[0].shape[0]
    a_prev, rt, ut, cct = cache.a_prev, cache.rt, cache.ut, cache.cct
    dcct = da_next * ut * (1 - cct**2)  # (G6)
    dut = da_next * (cct - a_prev) * ut * (1 - ut)  # (G7)
    d_reset_a = w["Wc_a_T"] @ dcct  # (G8), its first n_a rows: at rt * a_prev
    drt = d_reset_a * a_prev * rt * (1 - rt)  # (G9)
    columns = columns.write(drt, dut, dcct)
    # (G17), with (G16)'s first n_a rows: both gates at once, weights and gradients stacked
    da_prev = da_next * (1 - ut) + d_reset_a * rt + w["W_a_T"] @ columns.rows(0, 2 * n_a)
    return (da_prev,), columns


def parameter_backward(dgates, caches, p):
    """(G10)-(G16) and (G18) for every step at once, from ``drt, dut, dcct`` of every step
    stacked, ``(3 n_a, T m)``. Returns ``(dxs (T, n_x, m), {"dWr", "dbr", ...})``."""
    a_prev, rt, xt = caches.a_prev, caches.rt, caches.xt
    n_a, T = a_prev.shape[1], a_prev.shape[0]
    concat = as_columns(jnp.concatenate([a_prev, xt], axis=1))
    dWr, dWu = jnp.split(dgates[: 2 * n_a] @ concat.T, 2)  # (G14), (G12)
    dWc = dgates[2 * n_a :] @ as_columns(jnp.concatenate([rt * a_prev, xt], axis=1)).T  # (G10)
    dbr, dbu, dbc = jnp.split(jnp.sum(dgates, axis=1, keepdims=True), 3)  # (G15), (G13), (G11)
    # (G18): xt feeds both gates, (G16)'s rows from n_a on, and the candidate, (G8)'s
    dxs = from_columns(transposed_product(_input_weights(p), dgates), T)
    return dxs, {"dWr": dWr, "dbr": dbr, "dWu": dWu, "dbu": dbu, "dWc": dWc, "dbc": dbc}


#: the fast path above, for the sequence functions
# fmt: off
FAST = FastPath(input_projection, recurrent_weights, step, step_backward, parameter_backward,
                rows=lambda n_a: 3 * n_a)

#: the course's GRU as a cell: its sequence functions, twins, loss and checks
GRU = Cell(name="gru", cell_forward=gru_cell_forward, cell_backward=gru_cell_backward,
           parameter_shapes=PARAMETER_SHAPES, cache=GRUCache, cache_fields=CACHE_FIELDS,
           forward=gru_forward, backward=gru_backward, fast=FAST)
# fmt: on


__all__ = [
    "GRU", "CACHE_FIELDS", "EQUATIONS", "GRUCache", "PARAMETER_SHAPES", "gru_backward",
    "gru_cell_backward", "gru_cell_forward", "gru_forward", "input_projection",
    "parameter_backward", "recurrent_weights", "step", "step_backward"
]  # fmt: skip
