r"""The Linear Recurrent Unit (Orvieto et al., 2023, "Resurrecting Recurrent Neural Networks
for Long Sequences"): a complex diagonal recurrence, its hand-derived backward in JAX's
convention for complex values, its readout's, and its sequence functions, step by step as a
:class:`jaxrnn.Cell` and by a parallel scan.

The state is complex, :math:`a_t = \lambda \odot a_{t-1} + \gamma \odot (B x_t)`, with one
:math:`\lambda` per unit inside the unit circle, parametrised (as the paper does) by real
:math:`\nu, \theta` so that :math:`|\lambda| = e^{-e^\nu} < 1` always; the readout is real,
:math:`y_t = \mathrm{Re}(C a_t) + D x_t`. Forward, for one step: (LRU1)-(LRU4). Backward, from
the cotangent ``da_next`` of the complex state, (LRU5)-(LRU13): what ``jax.vjp`` returns for
the same cotangent, in JAX's convention (``Re(sum(w * df)) = Re(sum(g * dz))``, no conjugates;
see :mod:`jaxrnn.gradcheck`), for the real parameters and input and the complex previous
state; the readout is outside it, as the documents leave their output layer out, and has a
backward of its own, (LRU14)-(LRU18), from the gradient ``dy`` of the real readout (the loss
and the custom VJP run it). ``dBx`` is the gradient at :math:`B x_t`, ``dlam`` at
:math:`\lambda`. Each equation with its number; the derivation is
``docs/derivations/lru.md``:

.. math::
    \lambda = \exp(-\exp(\nu) + i \exp(\theta)) \tag{LRU1}

    \gamma = \exp(\gamma_{log}) \tag{LRU2}

    a_{next} = \lambda * a_{prev} + \gamma * ((B_{re} + i B_{im}) x_t) \tag{LRU3}

    y_t = \mathrm{Re}((C_{re} + i C_{im}) a_{next}) + D x_t \tag{LRU4}

    d\lambda = \sum_{batch} da_{next} * a_{prev} \tag{LRU5}

    da_{prev} = \lambda * da_{next} \tag{LRU6}

    dBx = \gamma * da_{next} \tag{LRU7}

    d\gamma_{log} = \gamma * \sum_{batch} \mathrm{Re}(da_{next} * (B x_t)) \tag{LRU8}

    dB_{re} = \mathrm{Re}(dBx \, x_t^T) \tag{LRU9}

    dB_{im} = -\mathrm{Im}(dBx \, x_t^T) \tag{LRU10}

    dx_t = \mathrm{Re}(B^T dBx) \tag{LRU11}

    d\nu = -\exp(\nu) * \mathrm{Re}(d\lambda * \lambda) \tag{LRU12}

    d\theta = -\exp(\theta) * \mathrm{Im}(d\lambda * \lambda) \tag{LRU13}

    da = (C_{re} + i C_{im})^T dy \tag{LRU14}

    dC_{re} = \sum_t \mathrm{Re}(dy \, a^T) \tag{LRU15}

    dC_{im} = -\sum_t \mathrm{Im}(dy \, a^T) \tag{LRU16}

    dD = \sum_t dy \, x_t^T \tag{LRU17}

    dx = D^T dy \tag{LRU18}

Parameters (real arrays, the paper's names): ``nu_log, theta_log, gamma_log (n_a, 1)``
(:math:`\nu, \theta, \gamma_{log}`), ``B_re, B_im (n_a, n_x)``, and the readout's
``C_re, C_im (n_y, n_a)``, ``D (n_y, n_x)``. Shapes as the documents': ``xt (n_x, m)``,
``a_prev (n_a, m)`` complex, ``x (n_x, m, T_x)``.

The LRU is a :class:`jaxrnn.Cell` (:data:`LRU`, ``jaxrnn.cells.LRU``) with a complex state
and its own readout: :func:`lru_forward` and :func:`lru_backward` run its two cell functions
step by step as the documents' loops do (lengths, reversed time, the loss, the custom VJP,
the gradient checker and the modules take it as any cell); :func:`lru_parallel_forward` and
:func:`lru_parallel_backward` run the recurrence by a parallel scan
(:mod:`jaxrnn._core.linear`) and its backward by a reverse one, tested against them.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core import arguments, linear
from jaxrnn._core.cell import Cell, sequence_backward, sequence_forward
from jaxrnn._core.equations import equations
from jaxrnn._core.lengths import checked_lengths, masked
from jaxrnn._core.output import Output

#: the equations of the docstring above, ``{"(LRU7)": latex}``
EQUATIONS = equations(__doc__)

#: the parameters and their shapes
PARAMETER_SHAPES = {
    "nu_log": "n_a 1", "theta_log": "n_a 1", "gamma_log": "n_a 1", "B_re": "n_a n_x",
    "B_im": "n_a n_x", "C_re": "n_y n_a", "C_im": "n_y n_a", "D": "n_y n_x",
}  # fmt: skip
#: the parameters of the recurrence, whose gradients the backward returns (not the readout's)
GRADIENT_KEYS = ("nu_log", "theta_log", "gamma_log", "B_re", "B_im")


class LRUCache(NamedTuple):
    """One step's cache: ``(a_next, a_prev, lam, Bx, xt, parameters)``."""

    a_next: object
    a_prev: object
    lam: object
    Bx: object
    xt: object
    parameters: dict


def eigenvalues(p):
    """(LRU1): ``λ (n_a, 1)``, and (LRU2): ``γ``."""
    lam = jnp.exp(-jnp.exp(p["nu_log"]) + 1j * jnp.exp(p["theta_log"]))  # (LRU1)
    return lam, jnp.exp(p["gamma_log"])  # (LRU2)


def lru_cell_forward(xt, a_prev, parameters):
    """One LRU step: (LRU1)-(LRU4).

    Returns:
        ``(a_next, yt, cache)``: the complex state ``(n_a, m)``, the real readout
        ``(n_y, m)`` and an :class:`LRUCache`.
    """
    xt, a_prev, p = checked(
        "lru_cell_forward", [("xt", xt, "n_x m")], ("a_prev", a_prev), parameters
    )
    lam, gamma = eigenvalues(p)  # (LRU1), (LRU2)
    Bx = (p["B_re"] + 1j * p["B_im"]) @ xt
    a_next = lam * a_prev + gamma * Bx  # (LRU3)
    yt = readout(a_next, xt, p)  # (LRU4)
    return a_next, yt, LRUCache(a_next, a_prev, lam, Bx, xt, p)


def readout(a, x, p):
    """(LRU4): ``y = Re(C a) + D x``, for one step ``(n_a, m)`` or all ``(n_a, m, T)``."""
    C = p["C_re"] + 1j * p["C_im"]
    return jnp.real(jnp.einsum("ya,am...->ym...", C, a)) + jnp.einsum("yx,xm...->ym...", p["D"], x)


def readout_backward(dy, a, x, p):
    """(LRU14)-(LRU18): from the readout's gradient ``dy (n_y, m, T)`` (real) to the states'
    (complex, JAX's convention), the input's and the readout's parameters', every step at
    once: ``(da, dx, {"C_re", "C_im", "D"})``."""
    da = jnp.einsum("ya,ymt->amt", p["C_re"] + 1j * p["C_im"], dy)  # (LRU14)
    dC = jnp.einsum("ymt,amt->ya", dy, a)
    dC_re = jnp.real(dC)  # (LRU15)
    dC_im = -jnp.imag(dC)  # (LRU16)
    dD = jnp.einsum("ymt,xmt->yx", dy, x)  # (LRU17)
    dx = jnp.einsum("yx,ymt->xmt", p["D"], dy)  # (LRU18)
    return da, dx, {"C_re": dC_re, "C_im": dC_im, "D": dD}


#: the LRU's readout as a cell's output layer: the loss and the custom VJP differentiate it by
#: (LRU14)-(LRU18); its prediction is ``y`` itself (the loss's softmax is the loss's)
READOUT = Output(("C_re", "C_im", "D"), readout, readout_backward, False,
                 "Re((C_re + i C_im) a_next) + D xt")  # fmt: skip


def lru_cell_backward(da_next, cache):
    """Backward pass of one LRU step, (LRU5)-(LRU13), in JAX's convention.

    Arguments:
        da_next: the complex cotangent of ``a_next``, ``(n_a, m)``.
        cache: :func:`lru_cell_forward`'s.

    Returns:
        dict with ``dxt (n_x, m)`` (real), ``da_prev (n_a, m)`` (complex), and the real
        ``dnu_log, dtheta_log, dgamma_log (n_a, 1)``, ``dB_re, dB_im (n_a, n_x)``.
    """
    a_next, a_prev, lam, Bx, xt, p = cache
    da_next = jnp.asarray(da_next, a_next.dtype)
    gamma = jnp.exp(p["gamma_log"])  # (LRU2)
    dlam = jnp.sum(da_next * a_prev, axis=1, keepdims=True)  # (LRU5)
    da_prev = lam * da_next  # (LRU6)
    dBx = gamma * da_next  # (LRU7)
    dgamma_log = gamma * jnp.sum(jnp.real(da_next * Bx), axis=1, keepdims=True)  # (LRU8)
    dB_re = jnp.real(dBx @ xt.T)  # (LRU9)
    dB_im = -jnp.imag(dBx @ xt.T)  # (LRU10)
    dxt = jnp.real((p["B_re"] + 1j * p["B_im"]).T @ dBx)  # (LRU11)
    dnu_log = -jnp.exp(p["nu_log"]) * jnp.real(dlam * lam)  # (LRU12)
    dtheta_log = -jnp.exp(p["theta_log"]) * jnp.imag(dlam * lam)  # (LRU13)
    return {"dxt": dxt, "da_prev": da_prev, "dnu_log": dnu_log, "dtheta_log": dtheta_log,
            "dgamma_log": dgamma_log, "dB_re": dB_re, "dB_im": dB_im}  # fmt: skip


#: the equations each output of the cell functions depends on
EQUATIONS_OF = {
    "a_next": ("(LRU1)", "(LRU2)", "(LRU3)"), "yt": ("(LRU1)", "(LRU2)", "(LRU3)", "(LRU4)"),
    "dxt": ("(LRU7)", "(LRU11)"), "da_prev": ("(LRU6)",),
    "dnu_log": ("(LRU5)", "(LRU12)"), "dtheta_log": ("(LRU5)", "(LRU13)"),
    "dgamma_log": ("(LRU8)",), "dB_re": ("(LRU7)", "(LRU9)"), "dB_im": ("(LRU7)", "(LRU10)"),
}  # fmt: skip


# The sequence: the same equations for all steps at once, around one parallel scan.


def coefficients(xs, p):
    """(LRU1)-(LRU3) for every step, ``xs (T, n_x, m)``: ``λ`` and ``u = γ B x``."""
    lam, gamma = eigenvalues(p)
    Bx = jnp.einsum("an,tnm->tam", p["B_re"] + 1j * p["B_im"], xs)
    return lam, gamma * Bx, (lam, gamma, Bx)


def coefficients_backward(dlam, du, aux, xs, p):
    """(LRU5) and (LRU7)-(LRU13) for every step at once, from ``∂λ`` and ``∂u``."""
    lam, gamma, Bx = aux
    dlam = jnp.sum(dlam, axis=(0, 2))[:, None]  # (LRU5), summed over the steps
    dBx = gamma * du  # (LRU7)
    dgamma_log = gamma * jnp.sum(jnp.real(du * Bx), axis=(0, 2))[:, None]  # (LRU8)
    dB = jnp.einsum("tam,tnm->an", dBx, xs)
    dxs = jnp.real(jnp.einsum("an,tam->tnm", p["B_re"] + 1j * p["B_im"], dBx))  # (LRU11)
    return dxs, {
        "dnu_log": -jnp.exp(p["nu_log"]) * jnp.real(dlam * lam),  # (LRU12)
        "dtheta_log": -jnp.exp(p["theta_log"]) * jnp.imag(dlam * lam),  # (LRU13)
        "dgamma_log": dgamma_log,
        "dB_re": jnp.real(dB),  # (LRU9)
        "dB_im": -jnp.imag(dB),  # (LRU10)
    }


#: the LRU as a linear recurrence, for :mod:`jaxrnn._core.linear`
LINEAR = linear.Linear(coefficients, coefficients_backward)


def lru_forward(x, a0, parameters, *, lengths=None, reverse=False):
    """The LRU over a whole sequence, step by step as the documents' loops run a cell:
    ``(a, y, caches)``, the complex states ``(n_a, m, T_x)`` and the readout ``(n_y, m,
    T_x)``, zero beyond each example's length; ``a0 (n_a, m)`` complex or real. See
    :func:`jaxrnn.rnn_forward`."""
    return sequence_forward(LRU, x, a0, parameters, lengths=lengths, reverse=reverse)


def lru_backward(da, caches):
    """Backpropagation through time for the LRU, step by step: (LRU5)-(LRU13) summed over the
    steps, from the states' complex cotangent ``da (n_a, m, T_da)``, in JAX's convention."""
    return sequence_backward(LRU, da, caches)


def lru_parallel_forward(x, a0, parameters, *, lengths=None, reverse=False, parallel=True):
    """:func:`lru_forward` by one parallel scan: ``(a, y, cache)``; ``a0`` may be ``None``
    (zeros). ``cache`` is for :func:`lru_parallel_backward`; ``parallel=False`` runs the same
    coefficients step by step."""
    fn = "lru_parallel_forward"
    x, a0, p = checked(fn, [("x", x, "n_x m T_x")], ("a0", a0), parameters)
    if lengths is not None:
        lengths = checked_lengths(fn, lengths, x.shape[1], x.shape[2])
    a, cache = linear.forward(LINEAR, x, a0, p, lengths, bool(reverse), bool(parallel))
    return a, masked(readout(a, x, p), lengths), cache


def lru_parallel_backward(da, cache, *, parallel=True):
    """:func:`lru_backward` by one reverse parallel scan, from the complex cotangent of the
    states ``da (n_a, m, T_da)``: ``{"dx", "da0", "dnu_log", "dtheta_log", "dgamma_log",
    "dB_re", "dB_im"}``, what ``jax.vjp`` of the states returns for it."""
    if not isinstance(cache, linear.LinearCache):
        raise TypeError(f"lru_parallel_backward: `cache` must be what lru_parallel_forward "
                        f"returned; got {type(cache).__name__}")  # fmt: skip
    T, n_a, m = cache.hs.shape
    if jnp.ndim(da) != 3 or jnp.shape(da)[:2] != (n_a, m) or not 1 <= jnp.shape(da)[2] <= T:
        raise ValueError(f"lru_parallel_backward: `da` must have shape (n_a, m, T_da) = "
                         f"({n_a}, {m}, T_da) with 1 <= T_da <= T_x = {T}; got "
                         f"{jnp.shape(da)}")  # fmt: skip
    dx, da0, dparams = linear.backward(LINEAR, jnp.asarray(da, cache.hs.dtype), cache,
                                       bool(parallel))  # fmt: skip
    return {"dx": dx, "da0": da0, **{f"d{k}": dparams[f"d{k}"] for k in GRADIENT_KEYS}}


def checked(fn: str, data, state, parameters):
    """The LRU's arguments, checked and cast as every cell's are
    (:func:`jaxrnn._core.arguments.checked`): ``data`` ``[(name, array, "n_x m")]`` and the
    parameters of :data:`PARAMETER_SHAPES` real, in their common floating dtype, as new arrays;
    ``state``, ``(name, array)``, ``(n_a, m)`` in the complex dtype of that precision (zeros
    for ``None``). Raises naming the argument, the expected and the actual shape."""
    *values, p = arguments.checked(fn, parameters, PARAMETER_SHAPES, data)
    dtype = arguments.complex_dtype(values[0].dtype)
    n_a, m = p["B_re"].shape[0], values[0].shape[1]
    name, state = state
    if state is None:
        return (*values, jnp.zeros((n_a, m), dtype), p)
    state = state if hasattr(state, "shape") else np.asarray(state)
    if not jnp.issubdtype(state.dtype, jnp.number):
        raise TypeError(f"{fn}: `{name}` must hold numbers; got dtype {state.dtype}")
    specs = [("parameters['B_re']", p["B_re"], "n_a n_x"), (data[0][0], values[0], data[0][2])]
    arguments.check_shapes(fn, [*specs, (name, state, "n_a m")])
    return (*values, *arguments.cast(dtype, state), p)


def random_parameters(rng: np.random.Generator, n_x, n_a, n_y, dtype=np.float64,
                      r_min=0.4, r_max=0.99, max_phase=np.pi):  # fmt: skip
    """The paper's initialisation: ``λ`` uniform on the ring ``r_min <= |λ| <= r_max`` with
    phases in ``[0, max_phase]``, ``γ = sqrt(1 - |λ|²)``, ``B`` and ``C`` complex Gaussian
    (variances ``1 / (2 n_x)`` and ``1 / n_a``), ``D`` Gaussian; NumPy arrays of ``dtype``."""
    uniform = rng.uniform(size=(2, n_a, 1))
    normal = {k: rng.standard_normal(shape) for k, shape in _gaussian_shapes(n_x, n_a, n_y).items()}
    p = _initialised(np, uniform, normal, n_x, n_a, r_min, r_max, max_phase)
    return {k: v.astype(dtype) for k, v in p.items()}


def init(key, n_x: int, n_a: int, n_y: int, dtype=jnp.float32, r_min=0.4, r_max=0.99,
         max_phase=np.pi):  # fmt: skip
    """:func:`random_parameters` from a ``jax.random`` key, as JAX arrays of ``dtype``: the
    LRU's ``Cell.init`` (so the Equinox and Flax modules start where the paper does)."""
    keys = jax.random.split(key, 1 + len(_gaussian_shapes(n_x, n_a, n_y)))
    # above 0, whose logarithm θ_log would be -inf
    uniform = jax.random.uniform(keys[0], (2, n_a, 1), dtype, minval=jnp.finfo(dtype).tiny)
    normal = {k: jax.random.normal(subkey, shape, dtype) for subkey, (k, shape)
              in zip(keys[1:], _gaussian_shapes(n_x, n_a, n_y).items(), strict=True)}  # fmt: skip
    p = _initialised(jnp, uniform, normal, n_x, n_a, r_min, r_max, max_phase)
    return {k: jnp.asarray(v, dtype) for k, v in p.items()}


def _gaussian_shapes(n_x, n_a, n_y) -> dict:
    """The parameters drawn from a Gaussian, and their shapes."""
    return {"B_re": (n_a, n_x), "B_im": (n_a, n_x), "C_re": (n_y, n_a), "C_im": (n_y, n_a),
            "D": (n_y, n_x)}  # fmt: skip


def _initialised(xp, uniform, normal, n_x, n_a, r_min, r_max, max_phase) -> dict:
    """The paper's parameters from two uniform draws ``(2, n_a, 1)`` and standard-normal ones,
    in NumPy or JAX (``xp``)."""
    u1, u2 = uniform
    nu_log = xp.log(-0.5 * xp.log(u1 * (r_max**2 - r_min**2) + r_min**2))
    gamma_log = xp.log(xp.sqrt(1 - xp.exp(-xp.exp(nu_log)) ** 2))
    scale = {"B_re": 2 * n_x, "B_im": 2 * n_x, "C_re": n_a, "C_im": n_a, "D": 1}
    return {"nu_log": nu_log, "theta_log": xp.log(max_phase * u2), "gamma_log": gamma_log,
            **{k: v / np.sqrt(scale[k]) for k, v in normal.items()}}  # fmt: skip


@functools.partial(jax.jit, static_argnames=("reverse",))
def sequential_states(x, a0, parameters, reverse=False):
    """The states by :func:`lru_cell_forward` step by step in a ``lax.scan``, the plain
    forward whose ``jax.vjp`` the tests hold :func:`lru_backward` to (no lengths)."""
    xs = jnp.moveaxis(x, -1, 0)

    def step(a, xt):
        a, _, _ = lru_cell_forward(xt, a, parameters)
        return a, a

    return jnp.moveaxis(jax.lax.scan(step, a0, xs, reverse=reverse)[1], 0, -1)


#: the cache's fields before the parameters, with their shapes
CACHE_FIELDS = {"a_next": "n_a m", "a_prev": "n_a m", "lam": "n_a 1", "Bx": "n_a m",
                "xt": "n_x m"}  # fmt: skip

#: the LRU as a cell: a complex state, its own readout; its sequence functions, twins, loss and
#: checks
LRU = Cell(name="lru", cell_forward=lru_cell_forward, cell_backward=lru_cell_backward,
           parameter_shapes=PARAMETER_SHAPES, readout=READOUT, complex_state=True,
           cache=LRUCache, cache_fields=CACHE_FIELDS, linear=LINEAR, initializer=init,
           forward=lru_forward,
           backward=lru_backward)  # fmt: skip


__all__ = [
    "CACHE_FIELDS", "EQUATIONS", "EQUATIONS_OF", "GRADIENT_KEYS", "LINEAR", "LRU", "LRUCache",
    "PARAMETER_SHAPES", "READOUT", "checked", "coefficients", "coefficients_backward",
    "eigenvalues", "init", "lru_backward", "lru_cell_backward", "lru_cell_forward", "lru_forward",
    "lru_parallel_backward", "lru_parallel_forward", "random_parameters", "readout",
    "readout_backward", "sequential_states",
]  # fmt: skip
