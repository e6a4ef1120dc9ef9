r"""Complex inputs and outputs, checked in JAX's convention as two real arrays each.

JAX differentiates a function of complex values as a function of their real and imaginary
parts, and pairs a cotangent ``w`` with a change ``dz`` as ``Re(sum(w * dz))``, without a
conjugate. So ``jax.vjp`` of ``f`` at ``z`` with cotangent ``w`` returns the ``g`` with

    Re(sum(w * df)) = Re(sum(g * dz))   for every dz;

for a real loss ``L`` (the cotangent 1) that is ``g = dL/dx - i dL/dy`` (``z = x + i y``):
the *conjugate* of the direction of steepest ascent. A hand-written backward in this
convention returns ``g``; one that returns ``conj(g)`` (the commonest complex slip) is wrong.

This module turns such a subject into a real one with the same derivative, so that every
opinion of the checker applies unchanged: each complex input ``z`` becomes ``[Re z, Im z]``
along a new last axis (its symbol ``part``, :data:`jaxrnn.gradcheck.where.PART`), each complex
output likewise, each complex cotangent ``w`` becomes ``[Re w, -Im w]`` and each gradient
``g`` of a complex input ``[Re g, -Im g]``: then ``Re(sum(w * df))`` is the real dot product of
the two, and the real function's gradient is the pair. A real input's gradient that comes back
complex is left complex, and fails as such. complex64 and complex128 are judged at float32's
and float64's tolerances.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import is_complex
from jaxrnn.autodiff import documents_names
from jaxrnn.gradcheck._subject import _UNTRACEABLE, FN, positional
from jaxrnn.gradcheck.where import PART


def _xp(value):
    """NumPy for NumPy arrays (a NumPy forward gets NumPy arrays), JAX for the rest."""
    return np if isinstance(value, np.ndarray) else jnp


def split(z, sign: int = 1):
    """``[Re z, sign * Im z]`` along a new last axis."""
    xp = _xp(z)
    return xp.stack([xp.real(z), sign * xp.imag(z)], axis=-1)


def join(pair, sign: int = 1):
    """``pair[..., 0] + sign * 1j * pair[..., 1]``: the inverse of :func:`split`."""
    xp = _xp(pair)
    dtype = xp.result_type(pair.dtype, np.complex64)
    return (pair[..., 0] + sign * 1j * pair[..., 1]).astype(dtype)


def real_gradient_of(leaf, g):
    """A gradient of ``leaf`` as the real subject has it: ``[Re g, -Im g]`` for a complex
    input; a real input's as it is (complex, it fails as such)."""
    return split(g, sign=-1) if is_complex(leaf) and hasattr(g, "shape") else g


def _map(tree, like, fn):
    """``fn(value, like_leaf)`` over ``tree``, matched to ``like`` by dictionary keys; a
    part of ``tree`` that ``like`` has no counterpart for is left as it is."""
    if isinstance(tree, Mapping) and isinstance(like, Mapping):
        return {k: _map(v, like[k], fn) if k in like else v for k, v in tree.items()}
    return fn(tree, like)


def realified(forward, backward, inputs: Mapping, cotangents, style: str, dims):
    """``(forward, backward, inputs, cotangents, dims, complex names)`` of the real subject
    equivalent to a complex one (see the module), and the gradients of its complex inputs;
    the arguments unchanged where nothing is complex."""
    cotangents = tuple(cotangents) if isinstance(cotangents, (tuple, list)) else (cotangents,)
    names = [str(k) for k in inputs]
    call = positional(forward, names) if callable(forward) else forward
    leaves = jax.tree.leaves(dict(inputs))
    if not any(is_complex(v) for v in leaves) and not any(is_complex(c) for c in cotangents):
        # real inputs and real cotangents: a complex output would be refused by jax.vjp too
        return forward, backward, inputs, cotangents, dims, []
    outputs = _leading_outputs(call, inputs, len(cotangents))
    for i, (c, out) in enumerate(zip(cotangents, outputs, strict=False)):
        if is_complex(out) != is_complex(c):
            kind = "complex" if is_complex(out) else "real"
            raise TypeError(
                f"{FN}: output {i} of the forward is {kind} ({out.dtype}), so its cotangent "
                f"must be {kind} too, as jax.vjp takes it; got {np.dtype(c.dtype)}"
            )
    leaves_by_name = documents_names(dict(inputs))
    flags = {n: is_complex(v) for n, v in leaves_by_name.items()}
    original = dict(inputs)
    real_inputs = {k: jax.tree.map(lambda v: split(v) if is_complex(v) else v, v)
                   for k, v in original.items()}  # fmt: skip

    def as_complex(values):
        """The forward's arguments from the real ones: each complex input joined again."""
        return {name: _map(real, original[name], lambda r, z: join(r) if is_complex(z) else r)
                for name, real in zip(names, values, strict=True)}  # fmt: skip

    count = len(cotangents)

    def real_forward(*values):
        out = call(*as_complex(values).values())
        out = out if isinstance(out, tuple) else (out,)
        leading = tuple(split(o) if is_complex(o) else o for o in out[:count])
        rest = out[count:]
        return (*leading, *rest) if len(out) > 1 else leading[0]

    def real_gradient(name, g):
        return real_gradient_of(leaves_by_name.get(name), g)

    def real_backward(*arguments):
        if style == "documents":
            *cots, cache = arguments
            returned = backward(*complex_of(cots), cache)
            if not isinstance(returned, Mapping):
                return returned
            return {k: real_gradient(k, v) for k, v in returned.items()}
        given, cots = arguments
        returned = backward(dict(as_complex(list(given.values()))), tuple(complex_of(cots)))
        if not isinstance(returned, Mapping):
            return returned
        # shaped like the inputs: each complex input's gradient in its real form
        return _map(returned, original, lambda g, z: real_gradient_of(z, g))

    def complex_of(cots):
        """The real cotangents the checker passes, each complex one joined again."""
        return [join(c, sign=-1) if was else c for c, was in
                zip(cots, complex_cotangents, strict=True)]  # fmt: skip

    complex_cotangents = [is_complex(c) for c in cotangents]
    real_cotangents = tuple(split(c, sign=-1) if is_complex(c) else c for c in cotangents)
    real_dims = dict(dims or {})
    for name, symbols in list(real_dims.items()):
        if flags.get(name) and isinstance(symbols, str):
            real_dims[name] = f"{symbols} {PART}"
    real_forward.__name__ = getattr(forward, "__name__", "forward")
    complex_names = [n for n, was in flags.items() if was]
    return real_forward, real_backward, real_inputs, real_cotangents, real_dims, complex_names


def _leading_outputs(call, inputs: Mapping, count: int) -> tuple:
    """The shapes and dtypes of the forward's first ``count`` outputs (it is run, untraced,
    where JAX cannot trace it)."""
    try:
        out = jax.eval_shape(call, *inputs.values())
    except _UNTRACEABLE:  # run on copies: a forward that writes into its inputs writes there
        out = call(*(jax.tree.map(_copied, v) for v in inputs.values()))
    out = out if isinstance(out, tuple) else (out,)
    return tuple(o for o in out[:count] if hasattr(o, "dtype"))


def _copied(value):
    return np.array(value) if isinstance(value, np.ndarray) else value


__all__: list[str] = []
