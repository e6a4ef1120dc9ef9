"""Argument checks shared by every public function.

Shapes in JAX are static, so every check here runs in Python on ``.shape`` before a single
operation is traced: a wrong argument fails with a message that names it, states the shape
that was expected (symbolically and in numbers) and the shape that arrived.

When two arguments disagree about a size, the one to blame is the one the others outvote: the
sizes that make the most arguments fit are taken as meant (ties go to the argument listed
first, the parameters before the data), and the first argument that does not fit them is named.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def as_array(fn: str, name: str, value: Any, complex_ok: bool = False):
    """Return ``value`` as an array, or raise ``TypeError`` naming the argument; complex
    numbers only where ``complex_ok`` (a complex state, as the LRU's)."""
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        try:
            value = np.asarray(value)
        except Exception as err:  # noqa: BLE001 - re-raised with the argument's name
            raise TypeError(f"{fn}: `{name}` must be an array; got {type(value).__name__}") from err
    dtype = np.dtype(value.dtype)
    if complex_ok and jnp.issubdtype(dtype, jnp.complexfloating):
        return value
    if not (
        jnp.issubdtype(dtype, jnp.floating)
        or jnp.issubdtype(dtype, jnp.integer)
        or jnp.issubdtype(dtype, jnp.bool_)
    ):
        raise TypeError(
            f"{fn}: `{name}` must hold real numbers (float, int or bool); got dtype {dtype}"
        )
    return value


def require_parameters(fn: str, parameters: Any, keys: Sequence[str], name: str = "parameters"):
    """Check that ``parameters`` is a mapping holding every key in ``keys``; return those."""
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"{fn}: `{name}` must be a dictionary with keys {list(keys)}; "
            f"got {type(parameters).__name__}"
        )
    missing = [k for k in keys if k not in parameters]
    if missing:
        raise KeyError(
            f"{fn}: `{name}` is missing {', '.join(repr(k) for k in missing)}; "
            f"expected keys {list(keys)}, got {sorted(map(str, parameters))}"
        )
    return {k: as_array(fn, f"{name}['{k}']", parameters[k]) for k in keys}


def _value(dim: str, sizes: Mapping[str, int]) -> int | None:
    """The size a dimension stands for (a literal, a symbol, or a sum), if every symbol is known."""
    total = 0
    for term in dim.split("+"):
        if term.isdigit():
            total += int(term)
        elif term in sizes:
            total += sizes[term]
        else:
            return None
    return total


def _fit(spec, sizes: dict) -> bool:
    """Whether one ``(name, shape, dims)`` spec fits ``sizes``, binding what it can.

    A standalone symbol not yet in ``sizes`` is bound to the array's size; a sum with one
    unknown symbol binds it to what is left (which must be at least 1).
    """
    _, shape, dims = spec
    for dim, size in zip(dims, shape, strict=True):
        want = _value(dim, sizes)
        if want is not None:
            if want != size:
                return False
            continue
        unknown = [t for t in dim.split("+") if not t.isdigit() and t not in sizes]
        if len(unknown) > 1:
            continue  # nothing to learn from this axis yet
        rest = _value("+".join(t for t in dim.split("+") if t != unknown[0]) or "0", sizes)
        if size - rest < 1:
            return False
        sizes[unknown[0]] = size - rest
    return True


def _candidates(specs) -> dict[str, set[int]]:
    """Every size each symbol could take, as some argument would have it."""
    candidates: dict[str, set[int]] = {}
    for _ in range(2):  # a second pass solves sums whose other terms the first pass found
        for _, shape, dims in specs:
            for dim, size in zip(dims, shape, strict=True):
                terms = [t for t in dim.split("+") if not t.isdigit()]
                constant = sum(int(t) for t in dim.split("+") if t.isdigit())
                for term in terms:
                    others = [candidates.get(t, set()) for t in terms if t != term]
                    for values in itertools.product(*others):
                        if size - constant - sum(values) >= 1:
                            candidates.setdefault(term, set()).add(size - constant - sum(values))
    return candidates


def _blame(fn: str, specs) -> ValueError:
    """The error for specs that do not fit together: the sizes that fit the most arguments (the
    earlier ones on a tie) are taken as meant, and the first argument they do not fit is named."""
    candidates = _candidates(specs)
    symbols = sorted(candidates)
    best, best_score, best_sizes = None, None, {}
    combinations = itertools.product(*(sorted(candidates[s]) for s in symbols))
    for values in itertools.islice(combinations, 20000):
        sizes = dict(zip(symbols, values, strict=True))
        fits = tuple(all(_value(d, sizes) == n for d, n in zip(s[2], s[1], strict=True))
                     for s in specs)  # fmt: skip
        score = (sum(fits), fits)
        if best_score is None or score > best_score:
            best, best_score, best_sizes = fits, score, sizes
    blamed = specs[best.index(False)] if best is not None and False in best else specs[-1]
    name, shape, dims = blamed
    numbers_ = [_value(d, best_sizes) for d in dims]
    expected = ", ".join(d if n is None else str(n) for d, n in zip(dims, numbers_, strict=True))
    sources = []
    for symbol in dict.fromkeys(t for d in dims for t in d.split("+") if not t.isdigit()):
        if symbol not in best_sizes:
            continue
        agree = [
            s[0]
            for s, fits in zip(specs, best, strict=True)
            if fits and s[0] != name and symbol in (t for d in s[2] for t in d.split("+"))
        ]
        if agree:
            shown = ", ".join(_quoted(a) for a in agree[:3]) + (", ..." if len(agree) > 3 else "")
            sources.append(f"{symbol} = {best_sizes[symbol]} from {shown}")
    return ValueError(
        f"{fn}: {_quoted(name)} has shape {shape}; expected ({', '.join(dims)}) = ({expected})"
        + (f" ({'; '.join(sources)})" if sources else "")
    )


def _quoted(name: str) -> str:
    """``x`` -> ```x```; ``parameters['Wf']`` stays as it is."""
    return name if "[" in name and name.endswith("]") else f"`{name}`"


def check_shapes(fn: str, specs: Sequence[tuple[str, Any, str]]) -> dict[str, int]:
    """Check arrays against symbolic shapes and return the sizes the symbols take.

    ``specs`` lists ``(argument name, array, "n_a m")``. A dimension may be a sum
    (``"n_a+n_x"``) or a literal (``"1"``). Every size must be at least 1. The message of a
    mismatch names the argument, the expected shape in symbols and numbers, the actual shape and
    which arguments fixed each size (see the module's docstring for who is blamed).
    """
    specs = [(name, tuple(array.shape), dims.split()) for name, array, dims in specs]
    for name, shape, dims in specs:
        if len(shape) != len(dims):
            raise ValueError(
                f"{fn}: {_quoted(name)} must have rank {len(dims)}, shape ({', '.join(dims)}); "
                f"got rank {len(shape)}, shape {shape}"
            )
        if 0 in shape:
            empty = ", ".join(d for d, n in zip(dims, shape, strict=True) if n == 0)
            raise ValueError(
                f"{fn}: {_quoted(name)} has shape {shape}: ({', '.join(dims)}) with {empty} = 0; "
                f"jaxrnn needs every size to be at least 1"
            )
    sizes: dict[str, int] = {}
    # a sum binds its unknown term only once the others are known: fit in order, twice
    for _ in range(2):
        if not all(_fit(spec, sizes) for spec in specs):
            raise _blame(fn, specs)
    if any(_value(d, sizes) is None for _, _, dims in specs for d in dims):
        raise _blame(fn, specs)
    return sizes


def common_float_dtype(*arrays) -> np.dtype:
    """The real dtype all arrays compute in: their promoted type, made floating (a complex
    array counts by its precision; :func:`cast` keeps it complex)."""
    dtype = jnp.result_type(*arrays)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return jnp.finfo(dtype).dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(dtype, jnp.float32)
    return dtype


def host_array(value, dtype):
    """A host value (NumPy, a list, a number) as a new JAX array of ``dtype``: copied and cast
    by NumPy, then put on the device (``jnp.array`` of it compiles a program per shape)."""
    return jax.device_put(np.array(value, dtype))


def cast(dtype, *arrays):
    """The arrays as JAX arrays of ``dtype`` (a complex array: of the complex dtype of its
    precision). A NumPy array is always copied (:func:`host_array`): on the CPU
    ``jnp.asarray`` may share its memory, and a result (a cache) must not change when the
    caller later writes into their own array."""
    return tuple(_cast(complex_dtype(dtype) if is_complex(a) else dtype, a) for a in arrays)


def _cast(dtype, a):
    return host_array(a, dtype) if isinstance(a, np.ndarray) else jnp.asarray(a, dtype)


def is_complex(value) -> bool:
    """Whether ``value`` is an array of complex numbers."""
    return hasattr(value, "dtype") and jnp.issubdtype(value.dtype, jnp.complexfloating)


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype of a real dtype's precision: ``complex64`` for ``float32``."""
    return jnp.result_type(dtype, jnp.complex64)


def require_tuple(fn: str, name: str, value: Any, length: int, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != length:
        got = (
            f"{type(value).__name__} of length {len(value)}"
            if isinstance(value, (tuple, list))
            else type(value).__name__
        )
        raise TypeError(f"{fn}: `{name}` must be {what} ({length} items); got {got}")
    return value


def checked(
    fn: str, parameters, shapes: Mapping[str, str], data, name: str = "parameters", complex_names=()
):
    """Check an architecture's arguments together and cast them to one floating dtype.

    Arguments:
        fn: the public function's name, for the messages.
        parameters: the parameter dictionary; it must hold every key of ``shapes`` (others are
            ignored).
        shapes: ``{key: "n_a n_x"}``, the parameters' symbolic shapes.
        data: ``[(argument name, value, "n_a m")]``, the arrays besides the parameters.
        name: what the messages call the parameters (``parameters[1]`` in a stack).
        complex_names: the names in ``data`` of complex states (the LRU's): real or complex, they
            are cast to the complex dtype of the common precision.

    Returns:
        ``(*data values, parameters)``, all in their common floating dtype (or its complex
        one), as new arrays.
    """
    p = require_parameters(fn, parameters, list(shapes), name)
    data = [(shown, as_array(fn, shown, value, shown in complex_names), dims)
            for shown, value, dims in data]  # fmt: skip
    specs = [(f"{name}['{k}']", p[k], dims) for k, dims in shapes.items()]
    check_shapes(fn, [*specs, *data])
    dtype = common_float_dtype(*p.values(), *(value for _, value, _ in data))
    p = dict(zip(p, cast(dtype, *p.values()), strict=True))
    return (*(_cast(complex_dtype(dtype) if shown in complex_names else dtype, value)
              for shown, value, _ in data), p)  # fmt: skip


def is_traced(value) -> bool:
    """Whether ``value`` is a tracer: its value is unknown until the traced function runs."""
    return isinstance(value, jax.core.Tracer)


def integer(fn: str, name: str, value, minimum: int) -> int:
    """A Python or NumPy integer of at least ``minimum``, as an ``int``; ``bool`` is refused."""
    if is_traced(value):
        raise TypeError(
            f"{fn}: `{name}` must be a concrete integer, known when the function is traced; got "
            f"a traced value. Under jax.jit, mark it static: "
            f"jax.jit({fn.split()[0]}, static_argnames='{name}')"
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: `{name}` must be an integer; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: `{name}` must be at least {minimum}; got {value}")
    return int(value)


def check_da_covers(fn: str, da, T_x: int, x_shape) -> None:
    """``da`` covers ``T_da`` steps: the first ones of ``x``'s ``T_x``, so ``T_da <= T_x``."""
    T_da = da.shape[-1]
    if T_da > T_x:
        raise ValueError(
            f"{fn}: `da` has shape {tuple(da.shape)}, covering {T_da} time steps; it must cover "
            f"between 1 and T_x = {T_x} steps (the first ones) of the forward's x {tuple(x_shape)}"
        )


def checked_cell_cache(
    fn: str, cache, cotangents, field_dims: Mapping, parameter_shapes: Mapping, complex_ok=False
):
    """Check a cell backward's arguments: the cotangents of the next state(s) and the cache.

    Arguments:
        cache: the cell cache, ``(*fields, parameters)``.
        cotangents: ``[(name, array)]``, the gradients of the next state(s), ``(n_a, m)`` each.
        field_dims: ``{field: "n_a m"}``, the cache's fields before ``parameters``, in order.
        parameter_shapes: ``{key: "n_a n_x"}``, the cell's parameters.
        complex_ok: the cell's state is complex: its cotangents and fields may be.

    Returns:
        ``(cotangents, fields, parameters)``, all in one floating dtype (a complex array in
        the complex one of its precision).
    """
    require_tuple(
        fn, "cache", cache, len(field_dims) + 1,
        f"the cell cache ({', '.join(field_dims)}, parameters) of the cell forward",
    )  # fmt: skip
    p = require_parameters(fn, cache[-1], list(parameter_shapes), "cache[-1] (parameters)")
    fields = [
        (f"cache[{i}] ({name})", as_array(fn, f"cache[{i}]", value, complex_ok), dims)
        for i, ((name, dims), value) in enumerate(zip(field_dims.items(), cache, strict=False))
    ]
    cotangents = [(name, as_array(fn, name, value, complex_ok), "n_a m")
                  for name, value in cotangents]  # fmt: skip
    specs = [(f"cache[-1]['{k}']", p[k], dims) for k, dims in parameter_shapes.items()]
    check_shapes(fn, [*specs, *fields, *cotangents])
    arrays = [value for _, value, _ in (*cotangents, *fields)]
    dtype = common_float_dtype(*p.values(), *arrays)
    p = dict(zip(p, cast(dtype, *p.values()), strict=True))
    arrays = cast(dtype, *arrays)
    return arrays[: len(cotangents)], arrays[len(cotangents) :], p


def flag(fn: str, name: str, value) -> bool:
    """``True`` or ``False``, or a ``TypeError`` naming the argument."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: `{name}` must be True or False; got {type(value).__name__}")
    return bool(value)
