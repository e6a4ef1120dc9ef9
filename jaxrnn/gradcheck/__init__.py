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
  by eps), where that is at most 1% of it (``RESOLVED``); one too small against the problem's
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

import dataclasses
import functools
import numbers
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.autodiff import documents_names
from jaxrnn.gradcheck import _opinions as opinions
from jaxrnn.gradcheck._finite import finite_differences as _finite_differences
from jaxrnn.gradcheck._report import GradientCheck, Opinion, Report, format_table
from jaxrnn.gradcheck._subject import FN, array_problem, checked_problem
from jaxrnn.gradcheck.tolerances import (
    AGREEMENT,
    ROUNDING_NOISE,
    agreement_reference,
    relative_error,
    rounding_floor,
)
from jaxrnn.gradcheck.where import locate


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
    problem = checked_problem(forward, backward, inputs, cotangents, style)
    _check_dims(problem, dims)
    dtype = problem.dtype
    skip = {str(s) for s in ([skip] if isinstance(skip, str) else skip or ())}
    reference = opinions.reference(problem) if problem.traced else None
    if reference is not None:
        checked = [n for n in reference if n not in skip]
        if checked and not any(np.any(np.asarray(reference[n])) for n in checked):
            raise ValueError(
                f"{FN}: jax.vjp gives exactly 0 for every gradient ({', '.join(checked)}), so "
                f"any backward returning zeros, or a multiple of the truth, would agree: the "
                f"problem checks nothing. Give inputs and cotangents that reach the gradients"
            )
    # jax.vjp's answer in float64, computed when a gradient first needs it
    float64 = functools.cache(lambda: opinions.float64_reference(problem))
    manual = problem.manual()
    gradients = list(reference) if reference is not None else [
        n for n in _float_names(problem) if n not in skip
    ]  # fmt: skip
    names = [n for n in dict.fromkeys([*manual, *gradients]) if n not in skip]
    floats = [n for n in names if problem.is_float(n)]
    caller = None if rtol is None and atol is None else (
        float(rtol if rtol is not None else 0.0), float(atol if atol is not None else 0.0)
    )  # fmt: skip
    # the problem's largest gradient entry, which sets the rounding floor
    largest = np.nan if reference is None else max(
        (float(np.max(np.abs(np.asarray(reference[n], np.float64)), initial=0.0))
         for n in gradients if n not in skip), default=0.0,
    )  # fmt: skip
    # what rounding moves the manual gradients by, measured when a tolerance alone fails one
    noise = functools.cache(lambda: opinions.rounding_noise(problem, manual, seed))
    extra, not_applicable = _further_opinions(
        problem, manual, reference, floats, seed, finite_differences, adjoint, order,
        check_batched, caller, largest, noise,
    )  # fmt: skip
    rows, not_returned = [], []
    for name in names:
        row = _row(problem, name, manual, reference, float64, extra, caller, dims or {}, largest,
                   noise)  # fmt: skip
        if row == "not returned":
            not_returned.append(name)
        else:
            rows.append(row)
    skipped = [n for n in [*manual, *gradients] if n in skip]
    return Report(dtype.name, rows, not_returned, list(dict.fromkeys(skipped)),
                  not_applicable, caller)  # fmt: skip


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


def _check_dims(problem, dims) -> None:
    """``dims`` names gradients of the problem, each with one symbol per axis."""
    if dims is None:
        return
    if not isinstance(dims, Mapping):
        raise TypeError(f"{FN}: `dims` must be a dictionary of gradient names; got {dims!r}")
    known = documents_names(dict(problem.inputs))
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


def _float_names(problem) -> list[str]:
    return [n for n in documents_names(dict(problem.inputs)) if problem.is_float(n)]


def _further_opinions(problem, manual, reference, names, seed, fd, adjoint, order, batched, caller,
              largest, noise):  # fmt: skip
    """Every further opinion asked for, by gradient: ``({name: {opinion: value}},
    {opinion: why not formed})``. A NumPy forward's are finite differences, always."""
    found, why_not = {n: {} for n in names}, {}
    if fd or not problem.traced:
        # a NumPy forward's gradient left out is judged as zero: 0, if the differences say so
        judged = manual if problem.traced else {
            **{n: np.zeros(np.shape(problem.leaf(n))) for n in names}, **manual
        }  # fmt: skip
        differences = _finite_differences(problem, judged, reference, names, seed, caller)
        for name, value in differences.items():
            found[name]["fd"] = value
    formed = []
    if adjoint and problem.traced:
        formed.append(
            (
                "adjoint",
                "forward mode",
                lambda: opinions.adjoint(problem, manual, names, seed, largest, noise, caller),
            )
        )
    elif adjoint:
        why_not["forward mode"] = "the forward is NumPy code, which jax.jvp cannot differentiate"
    if batched:
        # vmap against a loop in the problem's dtype: its agreement tolerance, or the caller's
        own = AGREEMENT.get(problem.dtype, AGREEMENT[np.dtype("float32")]).rtol
        rtol, atol = caller or (own, 0.0)
        formed.append(
            ("batched", "vmap", lambda: opinions.batched(problem, names, seed, rtol, atol, noise))
        )
    if order == 2 and problem.traced:
        formed.append(("second_order", "second order",
                       lambda: opinions.second_order(problem, names, seed, caller)))  # fmt: skip
    elif order == 2:
        why_not["second order"] = "the forward is NumPy code, which jax.grad cannot differentiate"
    for key, label, form in formed:
        try:
            for name, opinion in form().items():
                found.setdefault(name, {})[key] = opinion
        except opinions.NotApplicable as err:
            why_not[label] = str(err)
    return found, why_not


def _row(problem, name, manual, reference, float64, extra, caller, dims, largest, noise):
    """One gradient's :class:`GradientCheck`, or ``"not returned"`` for one the backward
    leaves out where ``jax.vjp`` (finite differences, for a NumPy forward) gives 0."""
    leaf = problem.leaf(name)
    opinions_of = extra.get(name, {})
    fd_error, fd_tol, settled = opinions_of.get("fd", (None, None, None))
    others = {k: opinions_of.get(k) for k in ("adjoint", "batched", "second_order")}
    if leaf is None or not problem.is_float(name):
        what = f"no input named {name[1:]!r}" if leaf is None else (
            f"input {name[1:]!r} is not differentiable ({jnp.result_type(leaf)})"
        )  # fmt: skip
        return GradientCheck(name, tuple(np.shape(manual.get(name))), problem=what)
    shape = tuple(np.shape(leaf))
    if name not in manual:
        if reference is not None:
            zero = not np.any(np.asarray(reference[name]))
        else:  # finite differences of the NumPy forward, of a zero gradient
            zero = settled is True and fd_error <= fd_tol
        return (
            "not returned"
            if zero
            else GradientCheck(name, shape, problem="not returned", vjp=reference is not None)
        )
    issue = array_problem(manual[name])
    if issue is not None:
        return GradientCheck(name, tuple(np.shape(manual[name])), problem=issue)
    got = np.asarray(manual[name])
    if got.shape != shape:
        return GradientCheck(name, got.shape, problem=f"shape {got.shape}, expected {shape}")
    finite = None if np.all(np.isfinite(got)) else "not finite"
    if reference is None:  # a NumPy forward: finite differences judge
        return GradientCheck(name, shape, fd_rel_error=fd_error, fd_tolerance=fd_tol,
                             fd_settled=settled, problem=finite, vjp=False, **others)  # fmt: skip
    want = np.asarray(reference[name])
    if caller is not None:
        row_tol, atol, against_float64 = caller[0], caller[1], False
    else:
        want, row_tol, atol, against_float64 = agreement_reference(
            problem.dtype, got, want, lambda: float64()[name]
        )
    floor = rounding_floor(problem.dtype, largest, atol)
    if not np.any(got) and np.any(reference[name]):
        size = float(np.max(np.abs(np.asarray(reference[name], np.float64))))
        if size > floor:
            zero = "returned zero where the gradient is not"
            return GradientCheck(name, shape, size, 1.0, problem=zero, scale=size, **others)
        # a zero never agrees with a gradient that is not, whatever the tolerance: at most
        # undecided, where the gradient is within the rounding floor
        row_tol = atol = 0.0
    diff = np.abs(got.astype(np.float64) - np.asarray(want, np.float64))
    max_abs, scale = float(np.max(diff, initial=0.0)), float(np.max(np.abs(want), initial=0.0))
    allowed = 0.0
    if finite is None and max_abs > atol + row_tol * scale and name in noise():
        allowed = ROUNDING_NOISE * float(np.max(noise()[name], initial=0.0))
    row = GradientCheck(
        name, shape, max_abs_error=max_abs, rel_error=relative_error(got, want),
        tolerance=row_tol, fd_rel_error=fd_error, fd_tolerance=fd_tol, problem=finite,
        fd_settled=settled, against_float64=against_float64, atol=atol, scale=scale,
        noise=allowed, floor=floor, **others,
    )  # fmt: skip
    if finite is None and not row.vjp_ok and not row.undecided:  # where jax.vjp says it is wrong
        where = locate(got, want, dims.get(name), (atol + row_tol * scale) / (scale or 1.0))
        row = dataclasses.replace(row, where=where)
    return row


__all__ = ["GradientCheck", "Opinion", "Report", "check_backward", "format_table"]
