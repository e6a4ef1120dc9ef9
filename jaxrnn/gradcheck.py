"""Check anyone's hand-written backward pass against ``jax.vjp`` and finite differences.

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

``print(report)`` shows the table: per gradient the largest absolute and relative error, the
tolerance for the dtype and pass or fail.

What the verdict means:

* every floating input gets a gradient: one the backward leaves out fails, unless ``jax.vjp``
  gives exactly zero for it (the output layer's parameters when only the states get
  cotangents) or the caller names it in ``skip``; integer and boolean inputs are constants;
* a gradient agrees when it is finite, real, of its input's shape and within the dtype's
  tolerance of ``jax.vjp`` (:mod:`jaxrnn.tolerances`), and, with ``finite_differences``,
  within what central differences can resolve;
* finite differences that settle on no value (a chaotic or exploding recurrence, whose
  derivative changes faster than any step float64 can take) are reported as *unsettled*:
  they neither pass nor fail a gradient, which then rests on ``jax.vjp`` alone.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.autodiff import documents_names, vjp
from jaxrnn.tolerances import (
    AGREEMENT,
    FINITE_DIFFERENCE,
    FINITE_DIFFERENCE_NOISE,
    FINITE_DIFFERENCE_SENSITIVITY,
    FINITE_DIFFERENCE_STEPS,
    LOW_PRECISION,
    agreement_reference,
    relative_error,
    tolerance,
)

FN = "check_backward"


@dataclass(frozen=True)
class GradientCheck:
    """One gradient's verdict. Errors are ``max |manual - ref| / max |ref|`` (see tolerances).

    ``fd_rel_error`` and ``fd_tolerance`` are ``None`` when finite differences did not run;
    ``fd_settled`` is ``False`` when they ran and settled on no value (see the module).
    """

    name: str
    shape: tuple
    max_abs_error: float = math.nan
    rel_error: float = math.nan
    tolerance: float = math.nan
    fd_rel_error: float | None = None
    fd_tolerance: float | None = None
    problem: str | None = None
    fd_settled: bool | None = None
    #: measured against jax.vjp in float64, by :func:`jaxrnn.tolerances.low_precision_tolerance`
    against_float64: bool = False

    @property
    def ok(self) -> bool:
        if self.problem is not None or not self.rel_error <= self.tolerance:
            return False
        return self.fd_rel_error is None or self.fd_rel_error <= self.fd_tolerance


@dataclass(frozen=True)
class Report:
    """The checker's answer: one :class:`GradientCheck` per gradient, and a printable table."""

    dtype: str
    rows: list[GradientCheck]
    #: gradients the backward did not return and ``jax.vjp`` gives as exactly zero
    not_returned: list[str] = field(default_factory=list)
    #: gradients the caller asked not to check
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def failed(self) -> list[str]:
        return [row.name for row in self.rows if not row.ok]

    @property
    def unsettled(self) -> list[str]:
        """Gradients whose finite differences settled on no value (checked by ``jax.vjp``)."""
        return [row.name for row in self.rows if row.fd_settled is False]

    def table(self) -> str:
        fd = any(row.fd_settled is not None for row in self.rows)
        head = ["gradient", "shape", "max abs err", "max rel err", f"tol ({self.dtype})"]
        head += ["FD rel err", "FD tol"] if fd else []
        body = []
        for r in self.rows:
            line = [r.name, str(r.shape), _f(r.max_abs_error), _f(r.rel_error), _f(r.tolerance)]
            if fd:
                settled = r.fd_settled is not False
                line += [_f(r.fd_rel_error) if settled else "unsettled", _f(r.fd_tolerance)]
            body.append([*line, "ok" if r.ok else f"FAIL{': ' + r.problem if r.problem else ''}"])
        head.append("result")
        notes = []
        if self.not_returned:
            notes.append(
                "not returned by the backward, and exactly 0 by jax.vjp: "
                + ", ".join(self.not_returned)
            )
        if self.skipped:
            notes.append(
                "skipped at the caller's request (not checked): " + ", ".join(self.skipped)
            )
        exact = [row.name for row in self.rows if row.against_float64]
        if exact:
            notes.append(
                f"measured against jax.vjp in float64 (rounding in {self.dtype} can be as "
                "large as a gradient): " + ", ".join(exact)
            )
        if self.unsettled:
            notes.append(
                "finite differences settled on no value for "
                + ", ".join(self.unsettled)
                + " (no step size gave consistent quotients); checked against jax.vjp alone"
            )
        verdict = "all gradients agree" if self.ok else "WRONG: " + ", ".join(self.failed)
        return "\n".join([format_table([head, *body]), *notes, verdict])

    __str__ = table


def format_table(rows: list[list]) -> str:
    """Rows of cells as text, each column as wide as its widest cell."""
    widths = [max(len(str(x)) for x in column) for column in zip(*rows, strict=True)]
    return "\n".join(
        "  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _f(value) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1e}"
    )


def _is_float(value) -> bool:
    return jnp.issubdtype(jnp.result_type(value), jnp.floating)


def _as(value, dtype):
    """Floating arrays as new arrays of ``dtype``; anything else as it is."""
    return jnp.array(value, dtype) if _is_float(value) else value


def _with_leaf(inputs: Mapping, gradient_name: str, value) -> dict:
    """``inputs`` with the leaf the gradient ``d<name>`` belongs to replaced by ``value``."""
    return _rebuild(inputs, {**documents_names(dict(inputs)), gradient_name: value})


def _rebuild(inputs: Mapping, leaves: dict) -> dict:
    """``inputs``' structure with the leaves named as :func:`documents_names` names them."""
    out = {}
    for name, item in inputs.items():
        if isinstance(item, Mapping):
            out[name] = _rebuild_tree(item, leaves, ())
        else:
            out[name] = leaves[f"d{name}"]
    return out


def _rebuild_tree(tree: Mapping, leaves: dict, prefix: tuple) -> dict:
    return {
        key: _rebuild_tree(value, leaves, (*prefix, str(key)))
        if isinstance(value, Mapping)
        else leaves[f"d{'.'.join((*prefix, str(key)))}"]
        for key, value in tree.items()
    }


def _positional(forward: Callable, names: list[str]) -> Callable:
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
    try:
        signature.bind(**dict.fromkeys(names))
    except TypeError as err:
        by_name = err
    else:
        return lambda *values: forward(**dict(zip(names, values, strict=True)))
    own = list(signature.parameters)
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


def _call_backward(forward, backward, inputs, cotangents, style) -> dict:
    """The backward's gradients as ``{"d<name>": value}``, or a ``TypeError`` saying why not."""
    if style == "documents":
        cache = _outputs(forward(*inputs.values()))[-1]
        returned = backward(*cotangents, cache)
        what = "{'d<input>': gradient} (documents style)"
    elif style == "vjp":
        returned = backward(dict(inputs), tuple(cotangents))
        what = "{input: gradient}, shaped like `inputs` (style='vjp')"
    else:
        raise ValueError(f"{FN}: `style` must be 'documents' or 'vjp'; got {style!r}")
    if not isinstance(returned, Mapping):
        raise TypeError(
            f"{FN}: the backward must return a dictionary {what}; it returned "
            f"{type(returned).__name__}"
        )
    return dict(returned) if style == "documents" else documents_names(returned)


def _array_problem(value) -> str | None:
    """Why ``value`` is not a usable gradient (a real floating array), or ``None``."""
    if value is None or not hasattr(value, "shape") and not isinstance(value, (int, float)):
        return f"not an array ({type(value).__name__})"
    dtype = np.dtype(jnp.result_type(value))
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return f"complex ({dtype})"
    if not jnp.issubdtype(dtype, jnp.floating):
        return f"not floating ({dtype})"
    return None


def check_backward(
    forward: Callable,
    backward: Callable,
    inputs: Mapping,
    cotangents,
    *,
    style: str = "documents",
    finite_differences: bool = False,
    skip=(),
    seed: int = 0,
) -> Report:
    """Compare a hand-written backward pass with ``jax.vjp`` (and finite differences).

    Arguments:
        forward: the forward function, called with ``inputs`` by name (a forward taking
            ``*args`` gets them in order). Its leading outputs receive the cotangents; in the
            documents' style its last output is the cache.
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
            by Richardson extrapolation over a ladder of steps (:mod:`jaxrnn.tolerances`).
        skip: gradient names (``"dWy"``) not to check; every other floating input must get one.
        seed: seeds the finite-difference directions.

    Returns:
        A :class:`Report`; ``report.ok``, ``report.failed`` (the wrong gradients' names),
        ``print(report)`` for the table.
    """
    if not isinstance(inputs, Mapping) or not inputs:
        raise TypeError(
            f"{FN}: `inputs` must be a non-empty dictionary of the forward's arguments by name; "
            f"got {type(inputs).__name__}"
        )
    for name, what in ((forward, "forward"), (backward, "backward")):
        if not callable(name):
            raise TypeError(f"{FN}: `{what}` must be callable; got {type(name).__name__}")
    cotangents = tuple(cotangents) if isinstance(cotangents, (tuple, list)) else (cotangents,)
    names = [str(k) for k in inputs]
    call = _positional(forward, names)
    floats = [x for x in jax.tree.leaves(dict(inputs)) if _is_float(x)]
    if not floats:
        raise TypeError(f"{FN}: `inputs` holds no floating array, so nothing to differentiate")
    dtype = np.dtype(jnp.result_type(*floats))
    if dtype not in AGREEMENT and dtype not in LOW_PRECISION:
        tolerance(AGREEMENT, dtype)  # raises, naming the dtypes that have a tolerance
    # one dtype throughout, and copies: jax.vjp returns each gradient in its input's dtype
    inputs = {name: jax.tree.map(lambda v: _as(v, dtype), value) for name, value in inputs.items()}
    cotangents = _checked_cotangents(call, inputs, cotangents, dtype)
    # one compiled program for the reference; values go in positionally, since a dictionary
    # through jit comes back with its keys sorted
    pullback = jax.jit(lambda values, cots: vjp(call, dict(zip(names, values, strict=True)), cots))
    reference = {
        name: g
        for name, g in documents_names(pullback(tuple(inputs.values()), cotangents)).items()
        if _is_float(_leaf_value(inputs, name))
    }
    checked = [n for n in reference if n not in skip]
    if checked and not any(np.any(np.asarray(reference[n])) for n in checked):
        raise ValueError(
            f"{FN}: jax.vjp gives exactly 0 for every gradient ({', '.join(checked)}), so any "
            f"backward returning zeros, or a multiple of the truth, would agree: the problem "
            f"checks nothing. Give inputs and cotangents that reach the gradients"
        )
    # jax.vjp's answer in float64, computed when a gradient first needs it
    float64 = functools.cache(lambda: _float64_reference(call, names, inputs, cotangents))
    manual = _call_backward(call, backward, inputs, cotangents, style)
    skip = {str(s) for s in ([skip] if isinstance(skip, str) else skip)}
    fd = {}
    if finite_differences:
        fd = _finite_differences(
            call, backward, inputs, cotangents, style, seed, manual, reference, dtype, skip
        )

    rows, not_returned = [], []
    for name in [*manual, *(n for n in reference if n not in manual)]:
        if name in skip:
            continue
        if name not in reference:
            leaf = _leaf_value(inputs, name)
            problem = (
                f"no input named {name[1:]!r}"
                if leaf is None
                else f"input {name[1:]!r} is not differentiable ({jnp.result_type(leaf)})"
            )
            rows.append(GradientCheck(name, tuple(np.shape(manual[name])), problem=problem))
            continue
        want = np.asarray(reference[name])
        if name not in manual:
            if not np.any(want):
                not_returned.append(name)
            else:
                rows.append(GradientCheck(name, want.shape, problem="not returned"))
            continue
        problem = _array_problem(manual[name])
        if problem is not None:
            rows.append(GradientCheck(name, tuple(np.shape(manual[name])), problem=problem))
            continue
        got = np.asarray(manual[name])
        if got.shape != want.shape:
            problem = f"shape {got.shape}, expected {want.shape}"
            rows.append(GradientCheck(name, got.shape, problem=problem))
            continue
        if not np.any(got) and np.any(want):  # nothing for finite differences to resolve
            zero = "returned zero where the gradient is not"
            rows.append(
                GradientCheck(name, got.shape, float(np.max(np.abs(want))), 1.0, problem=zero)
            )
            continue
        want, row_tol, _, against_float64 = agreement_reference(
            dtype, got, want, lambda name=name: float64()[name]
        )
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        fd_error, fd_tol, settled = fd.get(name, (None, None, None))
        rows.append(
            GradientCheck(
                name, got.shape,
                max_abs_error=float(np.max(diff, initial=0.0)),
                rel_error=relative_error(got, want),
                tolerance=row_tol,
                fd_rel_error=fd_error,
                fd_tolerance=fd_tol,
                problem=None if np.all(np.isfinite(got)) else "not finite",
                fd_settled=settled,
                against_float64=against_float64,
            )
        )  # fmt: skip
    skipped = [n for n in [*manual, *reference] if n in skip]
    return Report(dtype.name, rows, not_returned, list(dict.fromkeys(skipped)))


def _float64_reference(call, names, inputs, cotangents) -> dict:
    """``jax.vjp`` in float64: the answer low-precision gradients are measured against."""
    with jax.enable_x64(True):
        as64 = lambda v: jnp.asarray(v, jnp.float64) if _is_float(v) else v  # noqa: E731
        values = tuple(jax.tree.map(as64, v) for v in inputs.values())
        cots = tuple(as64(c) for c in cotangents)
        gradients = vjp(call, dict(zip(names, values, strict=True)), cots)
        return {
            k: np.asarray(v, np.float64)
            for k, v in documents_names(gradients).items()
            if _is_float(_leaf_value(inputs, k))  # integer inputs have no gradient
        }


def _checked_cotangents(call, inputs, cotangents, dtype) -> tuple:
    """The cotangents in ``dtype``, checked against the shapes of the forward's outputs."""
    try:
        outputs = _outputs(jax.eval_shape(call, *inputs.values()))
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError) as err:
        raise TypeError(
            f"{FN}: the forward cannot be traced by JAX, so jax.vjp cannot differentiate it "
            f"({type(err).__name__}: NumPy code, such as np.dot or np.tanh, on its inputs): "
            f"pass a JAX forward, jaxrnn's own (jaxrnn.lstm_cell_forward, ...) computing the "
            f"same, with your backward; a NumPy solution of the documents' exercises is checked "
            f"by `jaxrnn check FILE`"
        ) from None
    if len(cotangents) > len(outputs):
        raise ValueError(
            f"{FN}: {len(cotangents)} cotangents for a forward with {len(outputs)} outputs"
        )
    checked = []
    for i, (c, out) in enumerate(zip(cotangents, outputs, strict=False)):
        problem = _array_problem(c)
        if problem is not None:
            raise TypeError(f"{FN}: `cotangents[{i}]` must be a real floating array; {problem}")
        if tuple(np.shape(c)) != tuple(out.shape):
            raise ValueError(
                f"{FN}: `cotangents[{i}]` has shape {tuple(np.shape(c))}; output {i} of the "
                f"forward has shape {tuple(out.shape)}"
            )
        checked.append(jnp.array(c, dtype))
    return tuple(checked)


def _scalar_loss(forward, values, cotangents, magnitude=False):
    """``sum <cotangent, output>``; with ``magnitude``, ``sum |cotangent| * |output|``."""
    pairs = zip(cotangents, _outputs(forward(*values)), strict=False)
    if magnitude:
        return sum(jnp.vdot(jnp.abs(c), jnp.abs(o)) for c, o in pairs)
    return sum(jnp.vdot(c, o) for c, o in pairs)


def _finite_differences(
    forward, backward, inputs, cotangents, style, seed, manual, reference, dtype, skip
) -> dict:
    """Per gradient, ``(error, tolerance, settled)``: central differences against the manual
    gradient along a random sign vector ``u``, the step chosen by Richardson extrapolation.

    For steps ``h_k = h_0 / 2**k`` (``FINITE_DIFFERENCE_STEPS``), the quotients
    ``D_k = (J(θ + h_k u) - J(θ - h_k u)) / 2 h_k`` are extrapolated to ``h = 0``
    (Richardson's tableau, as Ridders' method builds it). The estimate used is the one whose
    window of neighbouring estimates agrees best, counting the quotient's rounding noise; it
    must sit on a plateau of the tableau (neighbours within 1% of it, or within the noise).
    The same extrapolation of ``D_k - <g, (θ_+ - θ_-) / 2 h_k>`` measures the manual
    gradient's error along the steps actually taken: ``θ ± h u`` rounds in float64.
    A sign vector weighs every entry alike, so an error of ``e`` in one entry moves
    ``<g, u>`` by exactly ``e``.
    """
    rng = np.random.default_rng(seed)
    steps = FINITE_DIFFERENCE_STEPS
    results = {}
    with jax.enable_x64(True):
        as64 = lambda v: jnp.asarray(v, jnp.float64) if _is_float(v) else v  # noqa: E731
        inputs64 = {name: jax.tree.map(as64, value) for name, value in inputs.items()}
        cotangents64 = tuple(as64(c) for c in cotangents)
        if dtype != np.float64:
            manual = _call_backward(forward, backward, inputs64, cotangents64, style)
        values = tuple(inputs64.values())
        # what rounding moves the loss by: its terms' size, and what rounding the inputs alone
        # moves it by (large for a chaotic recurrence, whose quotients then carry a bias that
        # looks like a plateau)
        magnitude = float(_scalar_loss(forward, values, cotangents64, magnitude=True))
        sensitivity = math.sqrt(sum(
            float(np.sum((np.asarray(g, np.float64) * np.asarray(_leaf_value(inputs64, n))) ** 2))
            for n, g in reference.items()
        ))  # fmt: skip
        noise_size = np.finfo(np.float64).eps * (
            FINITE_DIFFERENCE_NOISE * magnitude + FINITE_DIFFERENCE_SENSITIVITY * sensitivity
        )
        losses = jax.jit(
            lambda stacked: jax.lax.map(
                lambda vals: _scalar_loss(forward, vals, cotangents64), stacked
            )
        )
        for name, gradient in manual.items():
            leaf = _leaf_value(inputs64, name)
            if name in skip or name not in reference or _array_problem(gradient) is not None:
                continue
            gradient = np.asarray(gradient, np.float64)
            if leaf is None or leaf.shape != gradient.shape or not np.all(np.isfinite(gradient)):
                continue
            if not np.any(gradient) and np.any(reference[name]):  # "returned zero": said so
                continue
            theta = np.asarray(leaf)
            direction = rng.choice([-1.0, 1.0], size=theta.shape)
            hs = steps.h0 * max(1.0, float(np.max(np.abs(theta)))) * 0.5 ** np.arange(steps.count)
            plus = theta[None] + hs.reshape(-1, *([1] * theta.ndim)) * direction
            minus = theta[None] - hs.reshape(-1, *([1] * theta.ndim)) * direction
            stacked = jax.tree.map(
                lambda v: np.broadcast_to(np.asarray(v), (2 * steps.count, *np.shape(v))), values
            )
            both = np.concatenate([plus, minus])
            stacked = tuple(_with_leaf(dict(zip(inputs64, stacked, strict=True)), name, both)
                            .values())  # fmt: skip
            f = np.asarray(losses(stacked))
            quotients = (f[: steps.count] - f[steps.count :]) / (2 * hs)
            taken = np.sum((gradient * (plus - minus)).reshape(steps.count, -1), axis=1) / (2 * hs)
            results[name] = _extrapolated(quotients, taken, noise_size / hs, gradient)
    return results


def _richardson(values, levels: int):
    """Richardson's tableau for a sequence in ``h_k = h_0 / 2**k`` with error in ``h**2``."""
    table = np.full((len(values), levels), np.nan)
    for k, value in enumerate(values):
        table[k, 0] = value
        for j in range(1, min(k, levels - 1) + 1):
            factor = 4.0**j
            table[k, j] = (factor * table[k, j - 1] - table[k - 1, j - 1]) / (factor - 1)
    return table


def _spread(table, window: int):
    """Per entry, the range of it and the ``window - 1`` entries above it in its column."""
    spread = np.full(table.shape, np.inf)
    for k in range(window - 1, len(table)):
        block = table[k - window + 1 : k + 1]
        with np.errstate(invalid="ignore"):
            spread[k] = np.max(block, axis=0) - np.min(block, axis=0)
    spread[~np.isfinite(spread)] = np.inf
    return spread


def _extrapolated(quotients, taken, noise, gradient):
    """``(error, tolerance, settled)`` from the quotients and ``<g, step>`` per step size."""
    steps = FINITE_DIFFERENCE_STEPS
    tol = FINITE_DIFFERENCE
    derivative = _richardson(quotients, steps.levels)
    error = _richardson(quotients - taken, steps.levels)
    rounding = noise[:, None] * steps.noise_gain
    with np.errstate(invalid="ignore"):
        plateau = _spread(derivative, steps.window) <= steps.plateau * np.abs(derivative)
    resolution = steps.safety * _spread(error, steps.window) + rounding
    resolution[~plateau] = np.inf
    scale = float(np.linalg.norm(gradient)) + tol.atol
    if not np.isfinite(resolution).any() or np.min(resolution) > steps.useful * scale:
        return None, None, False
    k, j = np.unravel_index(np.argmin(resolution), resolution.shape)
    return abs(float(error[k, j])) / scale, tol.rtol + float(resolution[k, j]) / scale, True


def _leaf_value(inputs, gradient_name):
    """The input leaf a gradient belongs to, or ``None``."""
    return documents_names(dict(inputs)).get(gradient_name)
