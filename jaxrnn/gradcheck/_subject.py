"""What ``check_backward`` is asked to check, checked: the forward called with the inputs by
name or by position, the inputs and cotangents in one dtype, the gradients by their names."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import host_array
from jaxrnn.autodiff import documents_names, leaf_names
from jaxrnn.gradcheck.tolerances import AGREEMENT, LOW_PRECISION, tolerance

FN = "check_backward"
#: what JAX raises tracing NumPy code: the forward is then run untraced
_UNTRACEABLE = (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError)


@dataclasses.dataclass(frozen=True)
class Subject:
    """A checked subject.

    Attributes:
        call: the forward, ``call(*values)`` with the inputs in ``names``' order.
        names: the inputs' names.
        inputs: ``{name: value}``, floating leaves cast to ``dtype`` (new arrays).
        cotangents: one per leading output, in ``dtype``.
        dtype: the inputs' common floating dtype.
        backward, style: the hand-written backward and how it is called.
        traced: whether JAX can trace the forward; a NumPy forward is run untraced, and only
            finite differences can judge its gradients.
    """

    call: Callable
    names: list
    inputs: dict
    cotangents: tuple
    dtype: np.dtype
    backward: Callable
    style: str
    traced: bool = True

    @property
    def values(self) -> tuple:
        return tuple(self.inputs.values())

    def leaf(self, gradient_name: str):
        """The input leaf a gradient ``d<name>`` belongs to, or ``None``."""
        return documents_names(dict(self.inputs)).get(gradient_name)

    def is_float(self, gradient_name: str) -> bool:
        leaf = self.leaf(gradient_name)
        return leaf is not None and is_float(leaf)

    def with_leaf(self, gradient_name: str, value) -> dict:
        """The inputs with the leaf of ``gradient_name`` replaced by ``value``."""
        return with_leaves(
            self.inputs, {**documents_names(dict(self.inputs)), gradient_name: value}
        )

    def manual(self, cotangents=None, inputs=None, moved=None) -> dict:
        """The backward's gradients as ``{"d<name>": value}``, or a ``TypeError`` saying why
        not; by default at the subject's inputs and cotangents (``moved``: see
        :func:`call_backward`)."""
        inputs = self.inputs if inputs is None else inputs
        cotangents = self.cotangents if cotangents is None else cotangents
        return call_backward(self.call, self.backward, inputs, cotangents, self.style, moved)

    def in_float64(self) -> Subject:
        """The same subject in float64 (inside ``jax.enable_x64``)."""
        as64 = lambda v: jnp.asarray(v, jnp.float64) if is_float(v) else v  # noqa: E731
        inputs = {name: jax.tree.map(as64, value) for name, value in self.inputs.items()}
        cotangents = tuple(as64(c) for c in self.cotangents)
        return dataclasses.replace(self, inputs=inputs, cotangents=cotangents,
                                   dtype=np.dtype("float64"))  # fmt: skip


def checked_subject(forward, backward, inputs, cotangents, style) -> Subject:
    """The arguments of ``check_backward``, checked, as a :class:`Subject`."""
    if not isinstance(inputs, Mapping) or not inputs:
        raise TypeError(
            f"{FN}: `inputs` must be a non-empty dictionary of the forward's arguments by name; "
            f"got {type(inputs).__name__}"
        )
    for name, what in ((forward, "forward"), (backward, "backward")):
        if not callable(name):
            raise TypeError(f"{FN}: `{what}` must be callable; got {type(name).__name__}")
    if style not in ("documents", "vjp"):
        raise ValueError(f"{FN}: `style` must be 'documents' or 'vjp'; got {style!r}")
    cotangents = tuple(cotangents) if isinstance(cotangents, (tuple, list)) else (cotangents,)
    names = [str(k) for k in inputs]
    call = positional(forward, names)
    floats = [x for x in jax.tree.leaves(dict(inputs)) if is_float(x)]
    if not floats:
        raise TypeError(f"{FN}: `inputs` holds no floating array, so nothing to differentiate")
    dtype = np.dtype(jnp.result_type(*floats))
    if dtype not in AGREEMENT and dtype not in LOW_PRECISION:
        tolerance(AGREEMENT, dtype)  # raises, naming the dtypes that have a tolerance
    # one dtype throughout, and copies: jax.vjp returns each gradient in its input's dtype
    inputs = {name: jax.tree.map(lambda v: _as(v, dtype), value) for name, value in inputs.items()}
    try:
        outputs = _outputs(jax.eval_shape(call, *inputs.values()))
        traced = True
    except _UNTRACEABLE:  # NumPy code: run as it is written, on NumPy arrays
        as_numpy = lambda v: np.asarray(v) if is_float(v) else v  # noqa: E731
        inputs = {name: jax.tree.map(as_numpy, value) for name, value in inputs.items()}
        outputs = _outputs(call(*inputs.values()))
        traced = False
    cotangents = _checked_cotangents(outputs, cotangents, dtype, traced)
    return Subject(call, names, inputs, cotangents, dtype, backward, style, traced)


def is_float(value) -> bool:
    return jnp.issubdtype(jnp.result_type(value), jnp.floating)


def _as(value, dtype):
    """Floating arrays as new arrays of ``dtype``; anything else as it is."""
    return _array(value, dtype) if is_float(value) else value


def _array(value, dtype):
    """A new JAX array of ``dtype``: a JAX array copied on its device (a buffer of the
    caller's could be donated away), a host value by :func:`jaxrnn._core.arguments.host_array`."""
    return jnp.array(value, dtype) if isinstance(value, jax.Array) else host_array(value, dtype)


def with_leaves(inputs: Mapping, leaves: dict) -> dict:
    """``inputs``' structure with the leaves named as :func:`documents_names` names them."""
    names = leaf_names(inputs)
    return {
        name: _rebuild_tree(item, leaves, names, (str(name),))
        if isinstance(item, Mapping)
        else leaves[names[(str(name),)]]
        for name, item in inputs.items()
    }


def _rebuild_tree(tree: Mapping, leaves: dict, names: dict, prefix: tuple) -> dict:
    return {
        key: _rebuild_tree(value, leaves, names, (*prefix, str(key)))
        if isinstance(value, Mapping)
        else leaves[names[(*prefix, str(key))]]
        for key, value in tree.items()
    }


def positional(forward: Callable, names: list[str]) -> Callable:
    """``forward`` called with the inputs, as ``f(*values)`` in ``names``' order.

    Inputs are matched to the forward's parameters by name, whatever the order of the
    dictionary, where the names are the forward's own. Otherwise they go by position, in
    the dictionary's order: to a forward taking ``*args`` or positional-only arguments, and
    to one whose arguments have names of their own (``x_t, h_prev, params``) where every name
    the two share sits at the same position.
    """
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        return forward
    own = list(signature.parameters)
    in_order = own[: len(names)] == names and all(
        signature.parameters[n].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for n in names
    )
    if in_order:  # the same call by position (a jitted forward compiles once for both)
        return forward
    try:
        signature.bind(**dict.fromkeys(names))
    except TypeError as err:
        by_name = err
    else:
        return lambda *values: forward(**dict(zip(names, values, strict=True)))
    try:
        signature.bind(*names)
    except TypeError as err:
        by_name = err
    else:
        if all(own.index(n) == i for i, n in enumerate(names) if n in own):
            return forward
    raise TypeError(
        f"{FN}: the names of `inputs`, {names}, must be the forward's arguments, {own} "
        f"({by_name}), or take them in order; the forward is called with them by name, or "
        f"by position where the names are its own"
    )


def _outputs(out) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def leading(call, count: int):
    """The forward's first ``count`` outputs, the ones the cotangents belong to."""
    return lambda *values: _outputs(call(*values))[:count]


def call_backward(forward, backward, inputs, cotangents, style, moved=None) -> dict:
    """The backward's gradients as ``{"d<name>": value}``, or a ``TypeError`` saying why not;
    with ``moved``, a function of an array, the backward is given its cache (documents style)
    or its inputs (vjp style) with every array leaf replaced by ``moved`` of it. Every NumPy
    array it is given is a copy of its own, so that a backward writing into its arguments
    (``da_next *= 1 - a_next**2``) changes nothing the next call is given."""
    move = _own if moved is None else (lambda tree: jax.tree.map(moved, _own(tree)))
    cotangents = tuple(_own(c) for c in cotangents)
    if style == "documents":
        cache = _outputs(forward(*inputs.values()))[-1]
        returned = backward(*cotangents, move(cache))
        what = "{'d<input>': gradient} (documents style)"
    else:
        returned = backward({k: move(v) for k, v in inputs.items()}, cotangents)
        what = "{input: gradient}, shaped like `inputs` (style='vjp')"
    if not isinstance(returned, Mapping):
        raise TypeError(
            f"{FN}: the backward must return a dictionary {what}; it returned "
            f"{type(returned).__name__}"
        )
    return dict(returned) if style == "documents" else documents_names(returned, like=inputs)


def _own(tree):
    """``tree`` with every NumPy array copied (writable); JAX arrays are immutable."""
    return jax.tree.map(lambda v: np.array(v) if isinstance(v, np.ndarray) else v, tree)


def array_fault(value) -> str | None:
    """Why ``value`` is not a usable gradient (a real floating array), or ``None``."""
    if value is None or not hasattr(value, "shape") and not isinstance(value, (int, float)):
        return f"not an array ({type(value).__name__})"
    dtype = np.dtype(jnp.result_type(value))
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return f"complex ({dtype})"
    if not jnp.issubdtype(dtype, jnp.floating):
        return f"not floating ({dtype})"
    return None


def _checked_cotangents(outputs, cotangents, dtype, traced) -> tuple:
    """The cotangents in ``dtype``, checked against the shapes of the forward's outputs."""
    if len(cotangents) > len(outputs):
        raise ValueError(
            f"{FN}: {len(cotangents)} cotangents for a forward with {len(outputs)} outputs"
        )
    checked = []
    for i, (c, out) in enumerate(zip(cotangents, outputs, strict=False)):
        subject = array_fault(c)
        if subject is not None:
            raise TypeError(f"{FN}: `cotangents[{i}]` must be a real floating array; {subject}")
        if tuple(np.shape(c)) != tuple(np.shape(out)):
            raise ValueError(
                f"{FN}: `cotangents[{i}]` has shape {tuple(np.shape(c))}; output {i} of the "
                f"forward has shape {tuple(np.shape(out))}"
            )
        checked.append(_array(c, dtype) if traced else np.array(c, dtype))
    return tuple(checked)
