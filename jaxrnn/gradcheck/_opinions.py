"""The opinions ``check_backward`` forms of a hand-written backward, each a function of the
:class:`~jaxrnn.gradcheck._subject.Problem`, returning its view per gradient:

* :func:`reference`: ``jax.vjp`` of the forward, in the problem's dtype (and float64);
* :func:`adjoint`: the dot-product test with forward mode, ``<u, J v>`` by ``jax.jvp`` against
  ``<J^T u, v>`` from the backward: no reverse mode at all, so an opinion of its own;
* :func:`batched`: ``jax.vmap`` of the backward over a batch of cotangents against one call
  per cotangent;
* :func:`second_order`: the gradient of ``<w, backward(u)>`` with respect to the inputs, the
  backward run under ``jax.grad``, against the same of ``jax.vjp``.

Central finite differences, the fourth, are :mod:`jaxrnn.gradcheck._finite`. Like JAX's own
``check_jvp`` and ``check_vjp``, each is small and of the same shape; ``check_backward``
composes them into the report.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import host_array
from jaxrnn.autodiff import documents_names, vjp
from jaxrnn.gradcheck._report import Opinion
from jaxrnn.gradcheck._subject import (
    Problem,
    array_problem,
    call_backward,
    is_float,
    leading,
    with_leaves,
)
from jaxrnn.gradcheck.tolerances import (
    ADJOINT,
    ADJOINT_NOISE,
    AGREEMENT,
    RESOLVED,
    ROUNDING_NOISE,
    relative_error,
    rounding_floor,
)

#: the batch of cotangents :func:`batched` maps the backward over
BATCH = 3


class NotApplicable(Exception):
    """An opinion that cannot be formed for this problem, and why (the report says so)."""


def reference(problem: Problem) -> dict:
    """``jax.vjp`` of the forward: ``{"d<name>": gradient}`` for every floating input."""
    names = problem.names
    # one compiled program; values go in positionally, since a dictionary through jit comes
    # back with its keys sorted
    pullback = jax.jit(
        lambda values, cots: vjp(problem.call, dict(zip(names, values, strict=True)), cots)
    )
    gradients = documents_names(pullback(problem.values, problem.cotangents))
    return {name: g for name, g in gradients.items() if problem.is_float(name)}


def rounding_noise(problem: Problem, manual: dict, seed: int) -> dict:
    """How far rounding moves the hand-written backward's answer: ``{"d<name>": |backward of
    the moved cache - backward|}``, entry by entry in float64, the backward given its cache
    (documents style; a vjp-style backward, its inputs) with every floating entry moved by eps
    of its dtype, relative, at random. A backward that forms ``s (1 - s)`` or ``1 - a**2`` of
    saturated values loses most of a small gradient's digits, and shows it here
    (:data:`jaxrnn.gradcheck.tolerances.ROUNDING_NOISE`). Gradients it cannot compare are left out,
    and so are those of a backward whose answer changes as much when called again on the same
    cache (random numbers are not rounding)."""
    rng = np.random.default_rng(seed + 3)

    def moved(leaf):
        if not hasattr(leaf, "shape") or not is_float(leaf):
            return leaf
        host = np.asarray(leaf)
        eps = float(jnp.finfo(host.dtype).eps)
        out = host * (1 + eps * rng.uniform(-1.0, 1.0, host.shape)).astype(host.dtype)
        return host_array(out, host.dtype) if isinstance(leaf, jax.Array) else out

    try:
        moved_answer, repeated = problem.manual(moved=moved), problem.manual()
    except Exception:  # noqa: BLE001 - a backward that refuses the moved cache: no allowance
        return {}
    noise = {}
    for name, value in manual.items():
        others = [moved_answer.get(name), repeated.get(name)]
        if array_problem(value) or any(o is None or array_problem(o) for o in others):
            continue
        if any(np.shape(o) != np.shape(value) for o in others):
            continue
        value = np.asarray(value, np.float64)
        change, repeat = (np.abs(np.asarray(o, np.float64) - value) for o in others)
        # a backward whose answer changes from call to call is not rounding: no allowance
        if not ROUNDING_NOISE * np.max(repeat, initial=0.0) > np.max(change, initial=0.0):
            noise[name] = change
    return noise


def float64_reference(problem: Problem) -> dict:
    """``jax.vjp`` in float64: the answer low-precision gradients are measured against."""
    with jax.enable_x64(True):
        exact = problem.in_float64()
        gradients = vjp(exact.call, dict(exact.inputs), exact.cotangents)
        return {
            k: np.asarray(v, np.float64)
            for k, v in documents_names(gradients).items()
            if problem.is_float(k)  # integer inputs have no gradient
        }


def _float_leaves(problem: Problem, names) -> tuple:
    """``(function of the named floating leaves -> leading outputs, their values)``."""
    all_leaves = documents_names(dict(problem.inputs))
    outputs = leading(problem.call, len(problem.cotangents))

    def of(leaves: dict):
        inputs = with_leaves(problem.inputs, {**all_leaves, **leaves})
        return outputs(*inputs.values())

    return of, {n: all_leaves[n] for n in names}


def adjoint(problem: Problem, manual: dict, names, seed: int, largest: float = np.nan,
            noise=None, caller=None) -> dict:  # fmt: skip
    """The dot-product test, in float64: per gradient ``g`` of an input ``θ``, for a random
    direction ``v``, ``<u, J_θ v>`` by ``jax.jvp`` against ``<g, v>``.

    The error is ``|<u, J v> - <g, v>|`` over ``sum |u| |J v| + sum |g| |v|``, the size of the
    terms either dot product rounds. Forward mode recomputes the forward, rounding it in its
    own way, and a chaotic recurrence amplifies that into ``J`` itself; so ``<u, J v>`` is also
    taken at the inputs moved by rounding's size, and the tolerance counts the difference
    (:data:`jaxrnn.gradcheck.tolerances.ADJOINT`). The backward is run on the inputs in float64, so
    that it is its mathematics that is judged, not its rounding (the ``jax.vjp`` column judges
    that). ``caller``, ``(rtol, atol)``, replaces ADJOINT's tolerance: ``rtol``, and ``atol``
    as every entry's share of ``<g, v>``. ``largest``, the problem's largest gradient entry,
    sets each opinion's rounding
    floor: ``<g, v>`` with every entry of ``g`` uncertain by float64's rounding floor
    (:func:`jaxrnn.gradcheck.tolerances.rounding_floor`). ``noise``, a float64 problem's
    :func:`rounding_noise` as a function called when needed, is used rather than measured
    again (a problem in another dtype has its backward's measured in float64 here).
    """
    with jax.enable_x64(True):
        exact = problem.in_float64()
        manual = manual if problem.dtype == np.float64 else exact.manual()
        names = [n for n in names if n in manual and array_problem(manual[n]) is None
                 and np.shape(manual[n]) == np.shape(exact.leaf(n))]  # fmt: skip
        if not names:
            return {}
        of, primals = _float_leaves(exact, names)
        rng = np.random.default_rng(seed)
        directions = {n: rng.standard_normal(np.shape(primals[n])) for n in names}
        zeros = {n: np.zeros(np.shape(primals[n])) for n in names}

        def dots(at, tangent):
            _, out = jax.jvp(of, (at,), (tangent,))
            pairs = list(zip(exact.cotangents, out, strict=True))
            return (sum(jnp.vdot(u, o) for u, o in pairs),
                    sum(jnp.vdot(jnp.abs(u), jnp.abs(o)) for u, o in pairs))  # fmt: skip

        eps = np.finfo(np.float64).eps
        moved = {n: np.asarray(v) * (1 + eps * rng.standard_normal(np.shape(v)))
                 for n, v in primals.items()}  # fmt: skip
        # one compiled jvp, called per gradient (a batched one takes longer to compile)
        compiled = jax.jit(dots)
        forward_mode, size, rounded = [], [], []
        for n in names:
            tangent = {**zeros, n: directions[n]}  # the direction in its own leaf alone
            try:
                dot, terms = compiled(primals, tangent)
            except TypeError as err:
                if "custom_vjp" in str(err) or "forward-mode" in str(err):
                    raise NotApplicable(
                        "the forward is a jax.custom_vjp, which forward mode cannot differentiate"
                    ) from None
                raise
            forward_mode.append(float(dot))
            size.append(float(terms))
            rounded.append(float(compiled(moved, tangent)[0]))
        manual_noise = noise if noise is not None and problem.dtype == np.float64 else (
            functools.cache(lambda: rounding_noise(exact, manual, seed))
        )  # fmt: skip
        opinions = {}
        for k, n in enumerate(names):
            g, v = np.asarray(manual[n], np.float64), directions[n]
            reverse = float(np.vdot(g, v))
            scale = float(size[k]) + float(np.vdot(np.abs(g), np.abs(v)))
            if not scale:
                opinions[n] = Opinion(0.0 if forward_mode[k] == reverse else np.inf,
                                      ADJOINT.rtol if caller is None else caller[0])  # fmt: skip
                continue
            error = abs(float(forward_mode[k]) - reverse) / scale
            noise = abs(float(forward_mode[k]) - float(rounded[k]))
            base = ADJOINT.rtol if caller is None else (
                caller[0] + caller[1] * float(np.sum(np.abs(v))) / scale
            )  # fmt: skip
            tolerance = base + ADJOINT_NOISE * noise / scale
            if error > tolerance and n in manual_noise():
                # what rounding moves <g, v> by, the backward's cache moved by eps
                allowance = ROUNDING_NOISE * float(np.vdot(manual_noise()[n], np.abs(v))) / scale
                if allowance > RESOLVED and error <= tolerance + allowance:
                    # rounding alone moves it as far as a wrong term would: no opinion
                    opinions[n] = Opinion(error, tolerance + allowance, settled=False)
                    continue
                tolerance += allowance
            floor = rounding_floor(np.float64, largest) * float(np.sum(np.abs(v))) / scale
            opinions[n] = Opinion(error if np.isfinite(error) else np.inf, tolerance,
                                  floor=tolerance + floor)  # fmt: skip
        return opinions


def batched(problem: Problem, names, seed: int, rtol: float, atol: float, noise=None) -> dict:
    """``jax.vmap`` of the backward over ``BATCH`` cotangents against one call per
    cotangent: that it composes with ``vmap``. A backward that cannot be mapped fails. The
    two differ by rounding alone where the backward is right: past ``rtol`` and ``atol``
    each gradient is allowed what rounding moves the backward's answer by
    (:func:`rounding_noise`, from ``noise``, a function called when needed), as the
    ``jax.vjp`` column is."""
    rng = np.random.default_rng(seed + 1)
    draw = lambda c: rng.standard_normal((BATCH, *np.shape(c))).astype(problem.dtype)  # noqa: E731
    stacked = tuple(draw(c) for c in problem.cotangents)
    if problem.style == "documents":
        cache = problem.call(*problem.values)[-1]
        one = lambda *cots: problem.backward(*cots, cache)  # noqa: E731
    else:
        one = lambda *cots: problem.backward(dict(problem.inputs), cots)  # noqa: E731
    try:
        mapped = _named(problem, jax.vmap(one)(*stacked))
    except Exception as err:  # noqa: BLE001 - reported against every gradient
        failure = f"fails under jax.vmap ({type(err).__name__})"
        return {n: Opinion(problem=failure) for n in names}
    loop = [_named(problem, one(*(s[b] for s in stacked))) for b in range(BATCH)]
    opinions = {}
    for n in names:
        if n not in mapped or any(n not in each for each in loop):
            continue
        got = np.asarray(mapped[n], np.float64)
        want = np.stack([np.asarray(each[n], np.float64) for each in loop])
        if got.shape != want.shape:
            opinions[n] = Opinion(problem=f"shape {got.shape} under vmap, {want.shape} in a loop")
            continue
        scale = float(np.max(np.abs(want), initial=0.0))
        error = relative_error(got, want)
        bound = rtol + (atol / scale if scale else 0.0)
        if error > bound and noise is not None and n in noise():
            size = float(np.max(np.abs(np.asarray(problem.manual()[n], np.float64)), initial=0.0))
            moved = float(np.max(noise()[n], initial=0.0))
            bound += ROUNDING_NOISE * (moved / size if size else 0.0)
        opinions[n] = Opinion(error, bound)
    return opinions


def _named(problem: Problem, gradients) -> dict:
    """A backward's result as ``{"d<name>": value}`` (a vjp-style one is shaped like the
    inputs)."""
    if not isinstance(gradients, dict):
        return {}
    if problem.style == "documents":
        return dict(gradients)
    return documents_names(gradients, like=dict(problem.inputs))


def second_order(problem: Problem, names, seed: int, caller=None) -> dict:
    """The gradient of ``<w, backward(u)>`` with respect to the inputs, the backward run under
    ``jax.grad`` (as :mod:`jaxrnn.custom_vjp` runs it), against the same of ``jax.vjp``: right
    first derivatives with a wrong second (a ``stop_gradient`` on a term) fail here. In
    float64; the rows are the inputs'. ``caller``, ``(rtol, atol)``: its ``rtol`` in place of
    float64's agreement tolerance."""
    tolerance = AGREEMENT[np.dtype("float64")].rtol if caller is None else caller[0]
    with jax.enable_x64(True):
        exact = problem.in_float64()
        of, primals = _float_leaves(exact, names)
        all_leaves = documents_names(dict(exact.inputs))
        rng = np.random.default_rng(seed + 2)
        weights = {n: rng.standard_normal(np.shape(primals[n])) for n in names}

        def inputs_of(leaves):
            return with_leaves(exact.inputs, {**all_leaves, **leaves})

        def weighed(gradients):
            return sum(jnp.vdot(weights[n], jnp.asarray(gradients[n], jnp.float64))
                       for n in names if n in gradients)  # fmt: skip

        def by_hand(leaves):
            inputs = inputs_of(leaves)
            return weighed(call_backward(exact.call, exact.backward, inputs,
                                         exact.cotangents, exact.style))  # fmt: skip

        def by_vjp(leaves):
            gradients = vjp(exact.call, inputs_of(leaves), exact.cotangents)
            return weighed(documents_names(gradients))

        try:
            got = jax.grad(by_hand)(primals)
        except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
            raise NotApplicable(
                "the backward is not JAX code (NumPy, say), so jax.grad cannot differentiate it"
            ) from None
        want = jax.grad(by_vjp)(primals)
        return {n: Opinion(relative_error(got[n], want[n]), tolerance) for n in names}
