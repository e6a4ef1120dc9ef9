r"""The reset-after GRU, as cuDNN, PyTorch and Flax compute it: cell and sequence, forward and
hand-derived backward, in the course's notation: equations (R1)-(R5) forward, (R6)-(R19)
backward (why each holds: ``docs/derivations/gru_reset_after.md``). :math:`\tilde h`
(``hh``) is the candidate's recurrent part before the gate; a weight's subscript
:math:`{:n_a}` takes its first ``n_a`` columns (those acting on ``c_prev``), :math:`{n_a:}`
the rest:

.. math::
    \Gamma_r = \sigma(W_r [c_{prev}; x_t] + b_r) \tag{R1}

    \Gamma_u = \sigma(W_u [c_{prev}; x_t] + b_u) \tag{R2}

    \tilde h = W_{cc} c_{prev} + b_{cc} \tag{R3}

    \tilde c = \tanh(W_{cx} x_t + b_{cx} + \Gamma_r * \tilde h) \tag{R4}

    a_{next} = c_{next} = \Gamma_u * \tilde c + (1 - \Gamma_u) * c_{prev} \tag{R5}

    \hat y = \mathrm{softmax}(W_y a_{next} + b_y) \tag{prediction}

    d\tilde c = da_{next} * \Gamma_u * (1 - \tilde c^2) \tag{R6}

    d\gamma_u = da_{next} * (\tilde c - c_{prev}) * \Gamma_u * (1 - \Gamma_u) \tag{R7}

    d\tilde h = d\tilde c * \Gamma_r \tag{R8}

    d\gamma_r = d\tilde c * \tilde h * \Gamma_r * (1 - \Gamma_r) \tag{R9}

    dW_{cx} = d\tilde c \, x_t^T \tag{R10}

    db_{cx} = \sum_{batch} d\tilde c \tag{R11}

    dW_{cc} = d\tilde h \, c_{prev}^T \tag{R12}

    db_{cc} = \sum_{batch} d\tilde h \tag{R13}

    dW_u = d\gamma_u [c_{prev}; x_t]^T \tag{R14}

    db_u = \sum_{batch} d\gamma_u \tag{R15}

    dW_r = d\gamma_r [c_{prev}; x_t]^T \tag{R16}

    db_r = \sum_{batch} d\gamma_r \tag{R17}

    da_{prev} = da_{next} * (1 - \Gamma_u) + W_{cc}^T d\tilde h + W_{u, :n_a}^T d\gamma_u
        + W_{r, :n_a}^T d\gamma_r \tag{R18}

    dx_t = W_{cx}^T d\tilde c + W_{u, n_a:}^T d\gamma_u + W_{r, n_a:}^T d\gamma_r \tag{R19}

The course's GRU (:mod:`jaxrnn.cells.gru`) resets ``c_prev`` before its candidate's matrix sees it;
this one resets the matrix product, so that weights trained in PyTorch's ``nn.GRU`` or Flax's
``GRUCell`` mean here what they meant there (:mod:`jaxrnn.interop.weights` converts them). The
sequence functions run the two cell functions in jaxrnn's generic scans.

Shapes: ``xt (n_x, m)``, ``a_prev (n_a, m)``, ``Wr, Wu (n_a, n_a + n_x)``, ``Wcc (n_a, n_a)``,
``Wcx (n_a, n_x)``, ``br, bu, bcc, bcx (n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from jaxrnn._core.arguments import checked_cell_cache
from jaxrnn._core.cell import Cell, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn.activations import sigmoid, softmax

#: the equations of the docstring above, ``{"(R7)": latex}``
EQUATIONS = equations(__doc__)

#: the parameters and their shapes, in dictionary order
PARAMETER_SHAPES = {
    "Wr": "n_a n_a+n_x",
    "br": "n_a 1",
    "Wu": "n_a n_a+n_x",
    "bu": "n_a 1",
    "Wcc": "n_a n_a",
    "bcc": "n_a 1",
    "Wcx": "n_a n_x",
    "bcx": "n_a 1",
    "Wy": "n_y n_a",
    "by": "n_y 1",
}


class GRUResetAfterCache(NamedTuple):
    """The cell cache of :func:`gru_reset_after_cell_forward`: ``(a_next, a_prev, rt, ut, cct,
    hh, xt, parameters)``, ``hh`` the candidate's recurrent part ``Wcc c_prev + bcc``."""

    a_next: object
    a_prev: object
    rt: object
    ut: object
    cct: object
    hh: object
    xt: object
    parameters: dict


#: the cell cache's fields before ``parameters``, and their shapes
CACHE_FIELDS = {**{f: "n_a m" for f in GRUResetAfterCache._fields[:6]}, "xt": "n_x m"}


def gru_reset_after_cell_forward(xt, a_prev, parameters):
    """One step of the reset-after GRU: (R1)-(R5).

    Arguments:
        xt: input at step t, ``(n_x, m)``.
        a_prev: hidden state (= memory cell) at step t-1, ``(n_a, m)``.
        parameters: dict with ``Wr, Wu (n_a, n_a + n_x)``, ``Wcc (n_a, n_a)``,
            ``Wcx (n_a, n_x)``, ``br, bu, bcc, bcx (n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``.

    Returns:
        ``(a_next, yt_pred, cache)``: ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and the 8-tuple
        :class:`GRUResetAfterCache`.

    >>> import numpy as np
    >>> p = {k: np.zeros((2, 5)) for k in ("Wr", "Wu")}
    >>> p |= {"Wcc": np.eye(2), "Wcx": np.zeros((2, 3))}
    >>> p |= {k: np.zeros((2, 1)) for k in ("br", "bu", "bcc", "bcx")}
    >>> p |= {"Wy": np.zeros((1, 2)), "by": np.zeros((1, 1))}
    >>> a_next, yt_pred, cache = gru_reset_after_cell_forward(np.ones((3, 1)), np.zeros((2, 1)), p)
    >>> a_next.ravel().tolist()  # a zero state: the gate halves nothing, the candidate is 0
    [0.0, 0.0]
    """
    data = [("xt", xt, "n_x m"), ("a_prev", a_prev, "n_a m")]
    xt, a_prev, p = GRU_RESET_AFTER.validated("gru_reset_after_cell_forward", data, parameters)
    concat = jnp.concatenate([a_prev, xt], axis=0)
    rt = sigmoid(p["Wr"] @ concat + p["br"])  # (R1), relevance gate
    ut = sigmoid(p["Wu"] @ concat + p["bu"])  # (R2), update gate
    hh = p["Wcc"] @ a_prev + p["bcc"]  # (R3)
    cct = jnp.tanh(p["Wcx"] @ xt + p["bcx"] + rt * hh)  # (R4), candidate
    a_next = ut * cct + (1 - ut) * a_prev  # (R5): a = c
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, yt_pred, GRUResetAfterCache(a_next, a_prev, rt, ut, cct, hh, xt, p)


def gru_reset_after_cell_backward(da_next, cache):
    """Backward pass of one step: (R6)-(R19) of the module docstring.

    Arguments:
        da_next: gradient with respect to ``a_next`` (which is ``c_next``), ``(n_a, m)``.
        cache: the 8-tuple returned by :func:`gru_reset_after_cell_forward`.

    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)`` and the gradients of every parameter
        but the output layer's.
    """
    (da_next,), (a_next, a_prev, rt, ut, cct, hh, xt), p = checked_cell_cache(
        "gru_reset_after_cell_backward", cache, [("da_next", da_next)], CACHE_FIELDS,
        PARAMETER_SHAPES,
    )  # fmt: skip
    n_a = a_next.shape[0]
    dcct = da_next * ut * (1 - cct**2)  # (R6), at the candidate's pre-activation
    dut = da_next * (cct - a_prev) * ut * (1 - ut)  # (R7), at the update gate's
    dhh = dcct * rt  # (R8), at the candidate's recurrent part
    drt = dcct * hh * rt * (1 - rt)  # (R9), at the relevance gate's
    dWcx = dcct @ xt.T  # (R10)
    dbcx = jnp.sum(dcct, axis=1, keepdims=True)  # (R11)
    dWcc = dhh @ a_prev.T  # (R12)
    dbcc = jnp.sum(dhh, axis=1, keepdims=True)  # (R13)
    concat_T = jnp.concatenate([a_prev, xt], axis=0).T
    dWu = dut @ concat_T  # (R14)
    dbu = jnp.sum(dut, axis=1, keepdims=True)  # (R15)
    dWr = drt @ concat_T  # (R16)
    dbr = jnp.sum(drt, axis=1, keepdims=True)  # (R17)
    gates = p["Wu"].T @ dut + p["Wr"].T @ drt  # at [c_prev; x_t], both gates
    da_prev = da_next * (1 - ut) + p["Wcc"].T @ dhh + gates[:n_a]  # (R18)
    dxt = p["Wcx"].T @ dcct + gates[n_a:]  # (R19)
    return {
        "dxt": dxt, "da_prev": da_prev, "dWr": dWr, "dbr": dbr, "dWu": dWu, "dbu": dbu,
        "dWcc": dWcc, "dbcc": dbcc, "dWcx": dWcx, "dbcx": dbcx,
    }  # fmt: skip


def gru_reset_after_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """The reset-after GRU over a whole sequence, a ``lax.scan`` of (R1)-(R5); as
    :func:`jaxrnn.gru_forward`, with this cell's parameters and caches."""
    return sequence_forward(GRU_RESET_AFTER, x, a0, parameters, lengths=lengths, reverse=reverse)


def gru_reset_after_backward(da, caches):
    """Backpropagation through time for the reset-after GRU: (R6)-(R19) in a reverse
    ``lax.scan``; as :func:`jaxrnn.gru_backward`."""
    return sequence_backward(GRU_RESET_AFTER, da, caches)


#: the reset-after GRU as a cell: its sequence functions, twins, loss and checks
GRU_RESET_AFTER = Cell(
    name="gru_reset_after", cell_forward=gru_reset_after_cell_forward,
    cell_backward=gru_reset_after_cell_backward, parameter_shapes=PARAMETER_SHAPES,
    cache=GRUResetAfterCache, cache_fields=CACHE_FIELDS, forward=gru_reset_after_forward,
    backward=gru_reset_after_backward,
)  # fmt: skip


__all__ = [
    "GRU_RESET_AFTER", "CACHE_FIELDS", "EQUATIONS", "GRUResetAfterCache", "PARAMETER_SHAPES",
    "gru_reset_after_backward", "gru_reset_after_cell_backward", "gru_reset_after_cell_forward",
    "gru_reset_after_forward"
]  # fmt: skip
