"""Cells jaxrnn does not ship, written with the public API only, as a user would.

The minimal gated unit (Zhou et al., 2016), in the documents' style: one forget gate that also
resets the state the candidate sees.

    Γf = σ(Wf [a_prev; x] + bf)          c̃ = tanh(Wc [Γf * a_prev; x] + bc)
    a_next = (1 - Γf) * a_prev + Γf * c̃  ŷ = softmax(Wy a_next + by)

SLIPPED_MGU, the same with a slip in its backward.

NORM, an RNN on the input's direction (singular only at x = 0, as padding is), whose forward
names its arguments its own way: a correct cell that zero padding and by-name calls trip.
"""

from typing import NamedTuple

import jax.numpy as jnp

import jaxrnn


class MGUCache(NamedTuple):
    a_next: object
    a_prev: object
    ft: object
    cct: object
    xt: object
    parameters: dict


def mgu_cell_forward(xt, a_prev, parameters):
    p = parameters
    ft = jaxrnn.sigmoid(p["Wf"] @ jnp.concatenate([a_prev, xt]) + p["bf"])
    cct = jnp.tanh(p["Wc"] @ jnp.concatenate([ft * a_prev, xt]) + p["bc"])
    a_next = (1 - ft) * a_prev + ft * cct
    yt_pred = jaxrnn.softmax(p["Wy"] @ a_next + p["by"])
    return a_next, yt_pred, MGUCache(a_next, a_prev, ft, cct, xt, parameters)


def mgu_cell_backward(da_next, cache):
    a_next, a_prev, ft, cct, xt, p = cache
    n_a = a_prev.shape[0]
    dcct = da_next * ft * (1 - cct**2)  # at the candidate's pre-activation
    d_reset = p["Wc"].T @ dcct  # at [Γf * a_prev; x]
    dft = (da_next * (cct - a_prev) + d_reset[:n_a] * a_prev) * ft * (1 - ft)
    d_gate = p["Wf"].T @ dft  # at [a_prev; x]
    return {
        "dxt": d_reset[n_a:] + d_gate[n_a:],
        "da_prev": da_next * (1 - ft) + d_reset[:n_a] * ft + d_gate[:n_a],
        "dWf": dft @ jnp.concatenate([a_prev, xt]).T,
        "dbf": jnp.sum(dft, axis=1, keepdims=True),
        "dWc": dcct @ jnp.concatenate([ft * a_prev, xt]).T,
        "dbc": jnp.sum(dcct, axis=1, keepdims=True),
    }


MGU = jaxrnn.Cell(
    cell_forward=mgu_cell_forward,
    cell_backward=mgu_cell_backward,
    parameter_shapes={
        "Wf": "n_a n_a+n_x",
        "bf": "n_a 1",
        "Wc": "n_a n_a+n_x",
        "bc": "n_a 1",
        "Wy": "n_y n_a",
        "by": "n_y 1",
    },
    state=("a",),
)


class NormCache(NamedTuple):
    a_next: object
    a_prev: object
    u: object
    norm: object
    xt: object
    parameters: dict


def norm_cell_forward(x_t, h_prev, params):
    """An RNN step on the input's direction, u = x_t / |x_t|: finite for every real input but
    x_t = 0, the padding beyond a length; it also names its arguments its own way."""
    norm = jnp.broadcast_to(jnp.sqrt(jnp.sum(x_t**2, axis=0, keepdims=True)), x_t.shape)
    u = x_t / norm
    a_next = jnp.tanh(params["Waa"] @ h_prev + params["Wax"] @ u + params["ba"])
    yt_pred = jaxrnn.softmax(params["Wya"] @ a_next + params["by"])
    return a_next, yt_pred, NormCache(a_next, h_prev, u, norm, x_t, params)


def norm_cell_backward(da_next, cache):
    a_next, a_prev, u, norm, xt, p = cache
    dz = da_next * (1 - a_next**2)
    du = p["Wax"].T @ dz
    return {
        "dxt": (du - u * jnp.sum(du * u, axis=0, keepdims=True)) / norm,
        "da_prev": p["Waa"].T @ dz,
        "dWax": dz @ u.T,
        "dWaa": dz @ a_prev.T,
        "dba": jnp.sum(dz, axis=1, keepdims=True),
    }


NORM = jaxrnn.Cell(
    cell_forward=norm_cell_forward,
    cell_backward=norm_cell_backward,
    parameter_shapes=jaxrnn.cells.rnn.PARAMETER_SHAPES,
    output=("Wya", "by"),
)


def slipped_mgu_cell_backward(da_next, cache):
    """MGU's cell backward with a slip: dbf 1% too large."""
    gradients = mgu_cell_backward(da_next, cache)
    return {**gradients, "dbf": 1.01 * gradients["dbf"]}


#: MGU with a slip in its backward, for a wrong verdict to come back from another process
SLIPPED_MGU = jaxrnn.Cell(
    cell_forward=mgu_cell_forward,
    cell_backward=slipped_mgu_cell_backward,
    parameter_shapes=MGU.parameter_shapes,
    state=MGU.state,
    name="slipped_mgu",
)
