"""Argument checks shared by every public function.

Shapes in JAX are static, so every check here runs in Python on ``.shape`` before a single
operation is traced: a wrong argument fails with a message that names it, states the shape
that was expected (symbolically and in numbers) and the shape that arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np


def as_array(fn: str, name: str, value: Any):
    """Return ``value`` as an array, or raise ``TypeError`` naming the argument."""
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        try:
            value = np.asarray(value)
        except Exception as err:  # noqa: BLE001 - re-raised with the argument's name
            raise TypeError(f"{fn}: `{name}` must be an array; got {type(value).__name__}") from err
    dtype = np.dtype(value.dtype)
    if not (
        np.issubdtype(dtype, np.floating)
        or np.issubdtype(dtype, np.integer)
        or np.issubdtype(dtype, np.bool_)
    ):
        raise TypeError(
            f"{fn}: `{name}` must hold real numbers (float, int or bool); got dtype {dtype}"
        )
    return value


def require_parameters(fn: str, parameters: Any, keys: Sequence[str], name: str = "parameters"):
    """Check that ``parameters`` is a mapping holding every key in ``keys``."""
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"{fn}: `{name}` must be a dictionary with keys {list(keys)}; "
            f"got {type(parameters).__name__}"
        )
    missing = [k for k in keys if k not in parameters]
    if missing:
        raise KeyError(
            f"{fn}: `{name}` is missing {', '.join(repr(k) for k in missing)}; "
            f"expected keys {list(keys)}, got {sorted(parameters)}"
        )
    return {k: as_array(fn, f"{name}['{k}']", parameters[k]) for k in keys}


def _size(dim: str, bound: Mapping[str, tuple[int, str]]) -> int | None:
    """The size a dimension symbol stands for: a literal, a bound symbol, or a sum of them."""
    total = 0
    for term in dim.split("+"):
        if term.isdigit():
            total += int(term)
        elif term in bound:
            total += bound[term][0]
        else:
            return None
    return total


def check_shapes(fn: str, specs: Sequence[tuple[str, Any, str]]) -> dict[str, int]:
    """Check arrays against symbolic shapes and return the sizes the symbols take.

    ``specs`` lists ``(argument name, array, "n_a m")``; the first argument to use a symbol
    fixes its size, later ones must agree. A dimension may be a sum (``"n_a+n_x"``) of symbols
    fixed earlier. The message of a mismatch names the argument, the expected shape in symbols
    and numbers, the actual shape and where each symbol's size came from.
    """
    bound: dict[str, tuple[int, str]] = {}
    for name, array, dims_text in specs:
        dims = dims_text.split()
        shape = tuple(array.shape)
        if len(shape) != len(dims):
            raise ValueError(
                f"{fn}: `{name}` must have rank {len(dims)}, shape ({', '.join(dims)}); "
                f"got rank {len(shape)}, shape {shape}"
            )
        for dim, size in zip(dims, shape, strict=True):
            want = _size(dim, bound)
            if want is None and "+" not in dim:
                bound[dim] = (size, name)
            elif want != size:
                sizes = [_size(d, bound) for d in dims]
                numbers = (
                    "("
                    + ", ".join(
                        d if n is None else str(n) for d, n in zip(dims, sizes, strict=True)
                    )
                    + ")"
                )
                sources = ", ".join(
                    f"{s} = {bound[s][0]} from `{bound[s][1]}`"
                    for s in dict.fromkeys(t for d in dims for t in d.split("+"))
                    if s in bound and bound[s][1] != name
                )
                raise ValueError(
                    f"{fn}: `{name}` has shape {shape}; expected ({', '.join(dims)}) = "
                    f"{numbers}" + (f" ({sources})" if sources else "")
                )
    return {symbol: size for symbol, (size, _) in bound.items()}


def common_float_dtype(*arrays) -> np.dtype:
    """The dtype all arrays compute in: their promoted type, made floating."""
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(dtype, jnp.float32)
    return dtype


def cast(dtype, *arrays):
    return tuple(jnp.asarray(a, dtype) for a in arrays)


def require_tuple(fn: str, name: str, value: Any, length: int, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != length:
        got = (
            f"{type(value).__name__} of length {len(value)}"
            if isinstance(value, (tuple, list))
            else type(value).__name__
        )
        raise TypeError(f"{fn}: `{name}` must be {what} ({length} items); got {got}")
    return value


def checked(fn: str, parameters, keys, data, before=(), after=()):
    """Check an architecture's arguments together and cast them to one floating dtype.

    Arguments:
        fn: the public function's name, for the messages.
        parameters: the parameter dictionary; it must hold every key in ``keys``.
        keys: the architecture's parameter keys; only these are kept.
        data: ``[(argument name, value, "n_a m")]``, the arrays besides the parameters.
        before, after: ``[(key, "n_a n_x")]``, parameter shapes checked before and after the
            data. The first argument to use a dimension fixes it, so the order decides which
            argument a mismatch is blamed on.

    Returns:
        ``(*data values, parameters)``, all in their common floating dtype.
    """
    p = require_parameters(fn, parameters, keys)
    data = [(name, as_array(fn, name, value), dims) for name, value, dims in data]
    specs = lambda items: [(f"parameters['{k}']", p[k], dims) for k, dims in items]  # noqa: E731
    check_shapes(fn, [*specs(before), *data, *specs(after)])
    dtype = common_float_dtype(*p.values(), *(value for _, value, _ in data))
    p = dict(zip(p, cast(dtype, *p.values()), strict=True))
    return (*cast(dtype, *(value for _, value, _ in data)), p)
