"""Check anyone's hand-written backward pass: against ``jax.vjp``, forward mode, finite
differences, ``jax.vmap`` and its own second derivative.

>>> import numpy as np, jaxrnn
>>> from jaxrnn.gradcheck import check_backward
>>> rng = np.random.default_rng(0)
>>> p = jaxrnn.cells.LSTM.random_parameters(rng, 3, 4, 2)
>>> xt, a_prev, c_prev = (rng.standard_normal(s).astype(np.float32)
...                        for s in [(3, 5), (4, 5), (4, 5)])
>>> def broken(da_next, dc_next, cache):  # eq. (20) without its factor ft in the second term
...     g = jaxrnn.lstm_cell_backward(da_next, dc_next, cache)
...     a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
...     return g | {"dc_prev": dc_next * ft + ot * (1 - np.tanh(c_next) ** 2) * da_next}
>>> cotangents = (np.ones((4, 5), np.float32), np.ones((4, 5), np.float32))
>>> report = check_backward(jaxrnn.lstm_cell_forward, broken,
...     {"xt": xt, "a_prev": a_prev, "c_prev": c_prev, "parameters": p}, cotangents)
>>> report.ok, report.failed
(False, ['dc_prev'])

``print(report)`` shows the table: per gradient the largest absolute and relative error
against ``jax.vjp``, the tolerance for the dtype, each further opinion's error and tolerance,
and pass or fail, with where a wrong gradient is worst (:mod:`jaxrnn.gradcheck.where`).

What the verdict means:

* every floating input gets a gradient: one the backward leaves out fails, unless ``jax.vjp``
  gives exactly zero for it (the output layer's parameters when only the states get
  cotangents) or the caller names it in ``skip``; integer and boolean inputs are constants;
* a gradient agrees when it is finite, real, of its input's shape and within the dtype's
  tolerance of ``jax.vjp`` (:mod:`jaxrnn.gradcheck.tolerances`, or the caller's ``rtol``/``atol``),
  and within the tolerance of every further opinion asked for: the dot-product test with forward
  mode (on by default), central differences, the batched and the second-order check
  (:mod:`jaxrnn.gradcheck._opinions`, :mod:`jaxrnn.gradcheck._finite`);
* rounding is not a wrong derivative: a gradient outside its tolerance is allowed what
  rounding moves the backward's answer by (:func:`opinions.rounding_noise`: its cache moved
  by eps), where that is at most 1% of it (``RESOLVED``); one too small against the subject's
  other gradients to be measured (saturated gates: within 64 eps of the largest gradient,
  :func:`jaxrnn.gradcheck.tolerances.rounding_floor`) is *undecided*, ``report.undecided``,
  neither ``ok`` nor in ``report.failed``;
* an opinion that cannot be formed is said to be so and judges nothing: finite differences
  that settle on no value (a chaotic or exploding recurrence, whose derivative changes faster
  than any step float64 can take) are *unsettled*; forward mode cannot differentiate a
  ``jax.custom_vjp``; a NumPy backward has no second derivative;
* a forward JAX cannot trace (NumPy code) is run as it is, untraced, and its gradients are
  judged by finite differences alone: a gradient whose differences do not settle then gets
  no verdict of agreement.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.autodiff import documents_names
from jaxrnn.gradcheck._complex import realified
from jaxrnn.gradcheck._opinions import SOURCES, Context, NotApplicable, vjp_gradients
from jaxrnn.gradcheck._report import GradientCheck, Opinion, Report, format_table
from jaxrnn.gradcheck._subject import FN, array_fault, checked_subject


def check_backward(
    forward,
    backward,
    inputs: Mapping,
    cotangents,
    *,
    style: str = "documents",
    finite_differences: bool = False,
    adjoint: bool = True,
    order: int = 1,
    check_batched: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
    dims: Mapping | None = None,
    skip=(),
    seed: int = 0,
) -> Report:
    """Compare a hand-written backward pass with ``jax.vjp`` and the other opinions.

    Arguments:
        forward: the forward function, called with ``inputs`` by name (by position where its
            arguments have names of their own, or it takes ``*args``). Its leading outputs
            receive the cotangents; in the documents' style its last output is the cache. A
            NumPy forward is run untraced (see the module).
        backward: the hand-written backward. ``style="documents"``: called as
            ``backward(*cotangents, cache)`` and returning ``{"d<name>": gradient}`` where
            ``name`` is an input's name or a key of a dictionary input (``dxt``, ``da_prev``,
            ``dWf``...). ``style="vjp"``: called as ``backward(inputs, cotangents)`` and
            returning gradients with the inputs' names and structure.
        inputs: the forward's arguments by name (a dictionary of parameters is fine). Floating
            inputs are cast to their common dtype, which sets the tolerance; integer and
            boolean ones are held constant and get no gradient.
        cotangents: one array, or a tuple with one per leading output of ``forward``, each of
            its output's shape.
        finite_differences: also compare, in float64, with central differences of
            ``sum(cotangent * output)`` along a random direction per gradient, the step chosen
            by Richardson extrapolation over a ladder of steps (:mod:`jaxrnn.gradcheck.tolerances`).
        adjoint: the dot-product test with forward mode, ``<u, J v>`` by ``jax.jvp`` against
            ``<g, v>`` (torch's ``check_forward_ad``, JAX's ``modes=("fwd",)``).
        order: 2 also checks the backward's own derivative: ``jax.grad`` of ``<w,
            backward(u)>`` against the same of ``jax.vjp`` (torch's ``gradgradcheck``).
        check_batched: also check that ``jax.vmap`` of the backward over a batch of cotangents
            gives one call per cotangent (torch's ``check_batched_grad``).
        rtol, atol: the tolerance of every opinion, instead of jaxrnn's: against ``jax.vjp``
            and of the batched check ``max |manual - ref| <= atol + rtol * max |ref|``; for
            finite differences and forward mode ``rtol`` in place of their relative tolerance
            and ``atol`` as every entry's share of a dot product; for the second order
            ``rtol`` (its values are second derivatives, which ``atol`` does not measure).
            What rounding and the differences' resolution allow is added as ever.
        dims: ``{"dxt": "n_x m", "dWf": "n_a n_a+n_x", ...}``, gradients' shapes in the
            documents' symbols, so that where a wrong one is worst reads as rows, examples and
            time steps; each a gradient's name, with one symbol per axis.
        skip: gradient names (``"dWy"``) not to check; every other floating input must get one.
            ``None`` or ``()`` skips nothing.
        seed: seeds the random directions and cotangents of the opinions.

    Returns:
        A :class:`Report`; ``report.ok``, ``report.failed`` (the wrong gradients' names),
        ``report.undecided`` (those rounding leaves unmeasurable: neither ok nor wrong),
        ``print(report)`` for the table.
    """
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"{FN}: `order` must be 1 or 2; got {order!r}")
    rtol, atol = _tolerance("rtol", rtol), _tolerance("atol", atol)
    complex_names = []
    if isinstance(inputs, Mapping) and inputs and callable(forward) and callable(backward):
        # complex values as their real and imaginary parts, in JAX's convention
        forward, backward, inputs, cotangents, dims, complex_names = realified(
            forward, backward, inputs, cotangents, style, dims
        )
    subject = checked_subject(forward, backward, inputs, cotangents, style)
    _check_dims(subject, dims)
    skip = {str(s) for s in ([skip] if isinstance(skip, str) else skip or ())}
    reference = vjp_gradients(subject) if subject.traced else None
    if reference is not None:
        checked = [n for n in reference if n not in skip]
        if checked and not any(np.any(np.asarray(reference[n])) for n in checked):
            raise ValueError(
                f"{FN}: jax.vjp gives exactly 0 for every gradient ({', '.join(checked)}), so "
                f"any backward returning zeros, or a multiple of the truth, would agree: the "
                f"inputs check nothing. Give inputs and cotangents that reach the gradients"
            )
    manual = subject.manual()
    gradients = list(reference) if reference is not None else [
        n for n in _float_names(subject) if n not in skip
    ]  # fmt: skip
    names = [n for n in dict.fromkeys([*manual, *gradients]) if n not in skip]
    caller = None if rtol is None and atol is None else (rtol or 0.0, atol or 0.0)
    context = Context(
        subject, manual, reference, [n for n in names if subject.is_float(n)], seed, caller,
        dims or {},
        # the subject's largest gradient entry, which sets the rounding floor
        np.nan if reference is None else max(
            (float(np.max(np.abs(np.asarray(reference[n], np.float64)), initial=0.0))
             for n in gradients), default=0.0,
        ),
    )  # fmt: skip
    asked = {"vjp": subject.traced, "fd": finite_differences or not subject.traced,
             "adjoint": adjoint, "batched": check_batched, "second_order": order == 2}  # fmt: skip
    sources = [source for source in SOURCES if asked[source.key]]
    formed, not_applicable = {}, {}
    for source in sources:
        try:
            formed[source.key] = source.form(context)
        except NotApplicable as err:
            not_applicable[source.title] = str(err)
    rows, not_returned = [], []
    for name in names:
        row = _row(context, name, formed)
        if row is None:
            not_returned.append(name)
        else:
            rows.append(row)
    skipped = [n for n in [*manual, *gradients] if n in skip]
    return Report(subject.dtype.name, rows, not_returned, list(dict.fromkeys(skipped)),
                  not_applicable, caller, [s for s in sources if s.key in formed],
                  complex_names)  # fmt: skip


def _tolerance(name: str, value) -> float | None:
    """``rtol`` or ``atol`` as a float: any real number (a NumPy or JAX scalar too), finite
    and at least 0; ``None`` stays ``None``."""
    if value is None:
        return None
    array = isinstance(value, (np.ndarray, jax.Array)) and np.ndim(value) == 0 and (
        np.issubdtype(np.asarray(value).dtype, np.number) and np.isrealobj(value)
    )  # fmt: skip
    if (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))) or array:
        number = float(value)
        if np.isfinite(number) and number >= 0:
            return number
    raise ValueError(f"{FN}: `{name}` must be a finite real number >= 0; got {value!r}")


def _check_dims(subject, dims) -> None:
    """``dims`` names gradients of the subject, each with one symbol per axis."""
    if dims is None:
        return
    if not isinstance(dims, Mapping):
        raise TypeError(f"{FN}: `dims` must be a dictionary of gradient names; got {dims!r}")
    known = documents_names(dict(subject.inputs))
    for name, symbols in dims.items():
        if name not in known:
            raise ValueError(f"{FN}: `dims` names {name!r}, which is no gradient of `inputs`; "
                             f"they are {', '.join(known)}")  # fmt: skip
        if not isinstance(symbols, str):
            raise TypeError(f"{FN}: `dims[{name!r}]` must be a string of symbols, such as "
                            f"'n_a m'; got {type(symbols).__name__}")  # fmt: skip
        rank = np.ndim(known[name])
        if len(symbols.split()) != rank:
            raise ValueError(f"{FN}: `dims[{name!r}]` is {symbols!r}, {len(symbols.split())} "
                             f"symbols, for a gradient of rank {rank} (shape "
                             f"{tuple(np.shape(known[name]))})")  # fmt: skip


def _float_names(subject) -> list[str]:
    return [n for n in documents_names(dict(subject.inputs)) if subject.is_float(n)]


def _row(context: Context, name: str, formed: dict) -> GradientCheck | None:
    """One gradient's :class:`GradientCheck`: its opinions, and what is wrong with it before
    them; ``None`` for one the backward leaves out where ``jax.vjp`` (finite differences, for a
    NumPy forward) gives 0."""
    subject, manual = context.subject, context.manual
    leaf = subject.leaf(name)
    opinions = {key: found[name] for key, found in formed.items() if name in found}
    if leaf is None or not subject.is_float(name):
        what = f"no input named {name[1:]!r}" if leaf is None else (
            f"input {name[1:]!r} is not differentiable ({jnp.result_type(leaf)})"
        )  # fmt: skip
        return GradientCheck(name, tuple(np.shape(manual.get(name))), fault=what)
    shape = tuple(np.shape(leaf))
    if name not in manual:
        if context.vjp is not None:
            zero = not np.any(np.asarray(context.vjp[name]))
        else:  # finite differences of the NumPy forward, of a zero gradient
            zero = "fd" in opinions and opinions["fd"].settled and opinions["fd"].ok
        return None if zero else GradientCheck(name, shape, opinions, fault="not returned")
    fault = array_fault(manual[name])
    if fault is not None:
        return GradientCheck(name, tuple(np.shape(manual[name])), fault=fault)
    got = np.asarray(manual[name])
    if got.shape != shape:
        return GradientCheck(name, got.shape, fault=f"shape {got.shape}, expected {shape}")
    fault = None if np.all(np.isfinite(got)) else "not finite"
    if "vjp" in opinions and opinions["vjp"].detail.get("zero"):
        fault = "returned zero where the gradient is not"
    reference = None
    if context.vjp is not None:
        float64 = "vjp" in opinions and opinions["vjp"].detail.get("float64")
        reference = np.asarray(context.float64[name] if float64 else context.vjp[name])
    return GradientCheck(name, shape, opinions, fault=fault, manual=np.array(got),
                         reference=reference, dims=context.dims.get(name))  # fmt: skip


__all__ = ["GradientCheck", "Opinion", "Report", "check_backward", "format_table"]
