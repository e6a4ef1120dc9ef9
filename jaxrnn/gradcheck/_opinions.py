"""The opinions ``check_backward`` forms of a hand-written backward, each one function of
the :class:`Context` returning ``{gradient name: Opinion}`` of one shape
(:class:`~jaxrnn.gradcheck._report.Opinion`), as JAX's own ``check_jvp`` and ``check_vjp``
are small functions of one shape that ``check_grads`` composes:

* :func:`vjp_opinion`: against ``jax.vjp`` of the forward, in the subject's dtype (float64
  where that rounds as much as a gradient);
* :func:`finite_differences` (:mod:`jaxrnn.gradcheck._finite`): central differences of the
  forward, the only opinion of a NumPy forward;
* :func:`forward_mode`: the dot-product test, ``<u, J v>`` by ``jax.jvp`` against ``<J^T u,
  v>`` from the backward: no reverse mode at all, so an opinion of its own;
* :func:`batched`: ``jax.vmap`` of the backward over a batch of cotangents against one call
  per cotangent;
* :func:`second_order`: the gradient of ``<w, backward(u)>`` with respect to the inputs, the
  backward run under ``jax.grad``, against the same of ``jax.vjp``.

:data:`SOURCES` lists them with their columns; adding an opinion is one function and its
line there.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import host_array
from jaxrnn.autodiff import documents_names, vjp
from jaxrnn.gradcheck._finite import finite_differences
from jaxrnn.gradcheck._report import WRONG, Opinion, Source
from jaxrnn.gradcheck._subject import (
    Subject,
    array_fault,
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
    agreement_target,
    relative_error,
    rounding_floor,
)
from jaxrnn.gradcheck.where import locate

#: the batch of cotangents :func:`batched` maps the backward over
BATCH = 3


class NotApplicable(Exception):
    """An opinion that cannot be formed for this subject, and why (the report says so)."""


@dataclasses.dataclass
class Context:
    """What every opinion is formed from.

    Attributes:
        subject: what is checked (:class:`~jaxrnn.gradcheck._subject.Subject`).
        manual: the backward's gradients, ``{"d<name>": value}``.
        vjp: ``jax.vjp``'s, in the subject's dtype; ``None`` for a NumPy forward.
        names: the floating gradients to judge.
        seed: seeds the opinions' random directions and cotangents.
        caller: the caller's ``(rtol, atol)``, or ``None`` for jaxrnn's tolerances.
        dims: gradients' shapes in the documents' symbols, for where one is worst.
        largest: the subject's largest gradient entry, which sets the rounding floor.
    """

    subject: Subject
    manual: dict
    vjp: dict | None
    names: list
    seed: int = 0
    caller: tuple | None = None
    dims: Mapping = dataclasses.field(default_factory=dict)
    largest: float = math.nan

    @functools.cached_property
    def float64(self) -> dict:
        """``jax.vjp`` in float64, computed when first asked for."""
        return vjp_float64(self.subject)

    @functools.cached_property
    def noise(self) -> dict:
        """What rounding moves the backward's gradients by (:func:`rounding_noise`), measured
        when first asked for."""
        return rounding_noise(self.subject, self.manual, self.seed)

    def usable(self, name: str):
        """The backward's gradient ``name`` as an array, where it is one of the input's shape
        (the row says what else it is)."""
        value, leaf = self.manual.get(name), self.subject.leaf(name)
        if value is None or leaf is None or array_fault(value) is not None:
            return None
        value = np.asarray(value)
        return value if value.shape == tuple(np.shape(leaf)) else None


def vjp_gradients(subject: Subject) -> dict:
    """``jax.vjp`` of the forward: ``{"d<name>": gradient}`` for every floating input."""
    names = subject.names
    # one compiled program; values go in positionally, since a dictionary through jit comes
    # back with its keys sorted
    pullback = jax.jit(
        lambda values, cots: vjp(subject.call, dict(zip(names, values, strict=True)), cots)
    )
    gradients = documents_names(pullback(subject.values, subject.cotangents))
    return {name: g for name, g in gradients.items() if subject.is_float(name)}


def vjp_opinion(context: Context) -> dict:
    """Against ``jax.vjp``: ``max |manual - vjp|`` within ``atol + rtol max |vjp|`` (the
    dtype's :data:`~jaxrnn.gradcheck.tolerances.AGREEMENT`, or the caller's); in float16 and
    bfloat16, and a float32 gradient beyond float32's tolerance, against ``jax.vjp`` in
    float64 (:func:`~jaxrnn.gradcheck.tolerances.agreement_target`). Past the tolerance, a
    gradient is allowed what rounding moves the backward's answer by
    (:func:`rounding_noise`); within the subject's rounding floor, rounding decides."""
    if context.vjp is None:
        raise NotApplicable("the forward is NumPy code, which jax.vjp cannot differentiate")
    found = {}
    for name in context.names:
        got = context.usable(name)
        if got is not None:
            found[name] = _against_vjp(context, name, got)
    return found


def _against_vjp(context: Context, name: str, got) -> Opinion:
    subject, truth = context.subject, np.asarray(context.vjp[name])
    if context.caller is not None:
        want, (rtol, atol), float64 = truth, context.caller, False
    else:
        want, rtol, atol, float64 = agreement_target(
            subject.dtype, got, truth, lambda: context.float64[name]
        )
    floor = rounding_floor(subject.dtype, context.largest, atol)
    if not np.any(got) and np.any(truth):
        size = float(np.max(np.abs(np.asarray(truth, np.float64))))
        if size > floor:
            detail = {"relative": 1.0, "relative_tolerance": rtol + atol / size, "zero": True}
            return Opinion(size, atol + rtol * size, detail=detail)
        # a zero never agrees with a gradient that is not, whatever the tolerance: at most
        # undecided, where the gradient is within the rounding floor
        rtol = atol = 0.0
    finite = bool(np.all(np.isfinite(got)))
    diff = np.abs(got.astype(np.float64) - np.asarray(want, np.float64))
    max_abs, scale = float(np.max(diff, initial=0.0)), float(np.max(np.abs(want), initial=0.0))
    allowed = 0.0
    if finite and max_abs > atol + rtol * scale and name in context.noise:
        allowed = ROUNDING_NOISE * float(np.max(context.noise[name], initial=0.0))
    relative_tolerance = rtol + (allowed / scale if scale else math.inf if allowed else 0.0)
    detail = {
        "relative": relative_error(got, want),
        "relative_tolerance": relative_tolerance,
        "rtol": rtol,
        "atol": atol,
        "scale": scale,
        "noise": allowed,
        "float64": float64,
    }
    opinion = Opinion(max_abs, atol + rtol * scale + allowed, floor=floor,
                      unresolved=allowed > RESOLVED * scale, detail=detail)  # fmt: skip
    if finite and opinion.verdict == WRONG:  # where jax.vjp says it is wrong
        where = locate(got, want, context.dims.get(name), (atol + rtol * scale) / (scale or 1.0))
        opinion = dataclasses.replace(opinion, where=where)
    return opinion


def finite_difference_opinion(context: Context) -> dict:
    """Central finite differences of the forward in float64 (:mod:`jaxrnn.gradcheck._finite`).
    A NumPy forward's gradient the backward leaves out is judged as zero: 0, if the
    differences say so."""
    subject, manual = context.subject, context.manual
    judged = manual if subject.traced else {
        **{n: np.zeros(np.shape(subject.leaf(n))) for n in context.names}, **manual
    }  # fmt: skip
    return finite_differences(subject, judged, context.vjp, context.names, context.seed,
                              context.caller)  # fmt: skip


def rounding_noise(subject: Subject, manual: dict, seed: int) -> dict:
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
        moved_answer, repeated = subject.manual(moved=moved), subject.manual()
    except Exception:  # noqa: BLE001 - a backward that refuses the moved cache: no allowance
        return {}
    noise = {}
    for name, value in manual.items():
        others = [moved_answer.get(name), repeated.get(name)]
        if array_fault(value) or any(o is None or array_fault(o) for o in others):
            continue
        if any(np.shape(o) != np.shape(value) for o in others):
            continue
        value = np.asarray(value, np.float64)
        change, repeat = (np.abs(np.asarray(o, np.float64) - value) for o in others)
        # a backward whose answer changes from call to call is not rounding: no allowance
        if not ROUNDING_NOISE * np.max(repeat, initial=0.0) > np.max(change, initial=0.0):
            noise[name] = change
    return noise


def vjp_float64(subject: Subject) -> dict:
    """``jax.vjp`` in float64: the answer low-precision gradients are measured against."""
    with jax.enable_x64(True):
        exact = subject.in_float64()
        gradients = vjp(exact.call, dict(exact.inputs), exact.cotangents)
        return {
            k: np.asarray(v, np.float64)
            for k, v in documents_names(gradients).items()
            if subject.is_float(k)  # integer inputs have no gradient
        }


def _float_leaves(subject: Subject, names) -> tuple:
    """``(function of the named floating leaves -> leading outputs, their values)``."""
    all_leaves = documents_names(dict(subject.inputs))
    outputs = leading(subject.call, len(subject.cotangents))

    def of(leaves: dict):
        inputs = with_leaves(subject.inputs, {**all_leaves, **leaves})
        return outputs(*inputs.values())

    return of, {n: all_leaves[n] for n in names}


def forward_mode(context: Context) -> dict:
    """The dot-product test, in float64: per gradient ``g`` of an input ``θ``, for a random
    direction ``v``, ``<u, J_θ v>`` by ``jax.jvp`` against ``<g, v>``.

    The error is ``|<u, J v> - <g, v>|`` over ``sum |u| |J v| + sum |g| |v|``, the size of the
    terms either dot product rounds. Forward mode recomputes the forward, rounding it in its
    own way, and a chaotic recurrence amplifies that into ``J`` itself; so ``<u, J v>`` is also
    taken at the inputs moved by rounding's size, and the tolerance counts the difference
    (:data:`jaxrnn.gradcheck.tolerances.ADJOINT`). The backward is run on the inputs in float64, so
    that it is its mathematics that is judged, not its rounding (the ``jax.vjp`` column judges
    that). The caller's ``(rtol, atol)`` replaces ADJOINT's tolerance: ``rtol``, and ``atol``
    as every entry's share of ``<g, v>``. The subject's largest gradient entry sets each
    opinion's rounding floor: ``<g, v>`` with every entry of ``g`` uncertain by float64's
    rounding floor (:func:`jaxrnn.gradcheck.tolerances.rounding_floor`). A float64 subject's
    rounding noise is the context's, not measured again (a subject in another dtype has its
    backward's measured in float64 here).
    """
    subject, manual, names, seed = context.subject, context.manual, context.names, context.seed
    caller, largest = context.caller, context.largest
    if not subject.traced:
        raise NotApplicable("the forward is NumPy code, which jax.jvp cannot differentiate")
    with jax.enable_x64(True):
        exact = subject.in_float64()
        manual = manual if subject.dtype == np.float64 else exact.manual()
        names = [n for n in names if n in manual and array_fault(manual[n]) is None
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
        along_jvp, size, rounded = [], [], []
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
            along_jvp.append(float(dot))
            size.append(float(terms))
            rounded.append(float(compiled(moved, tangent)[0]))
        manual_noise = (lambda: context.noise) if subject.dtype == np.float64 else (
            functools.cache(lambda: rounding_noise(exact, manual, seed))
        )  # fmt: skip
        opinions = {}
        for k, n in enumerate(names):
            g, v = np.asarray(manual[n], np.float64), directions[n]
            reverse = float(np.vdot(g, v))
            scale = float(size[k]) + float(np.vdot(np.abs(g), np.abs(v)))
            if not scale:
                opinions[n] = Opinion(0.0 if along_jvp[k] == reverse else np.inf,
                                      ADJOINT.rtol if caller is None else caller[0])  # fmt: skip
                continue
            error = abs(float(along_jvp[k]) - reverse) / scale
            noise = abs(float(along_jvp[k]) - float(rounded[k]))
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


def batched(context: Context) -> dict:
    """``jax.vmap`` of the backward over ``BATCH`` cotangents against one call per
    cotangent: that it composes with ``vmap``, in the subject's dtype, at its agreement
    tolerance or the caller's. A backward that cannot be mapped fails. The two differ by
    rounding alone where the backward is right: past the tolerance each gradient is allowed
    what rounding moves the backward's answer by (:func:`rounding_noise`), as the ``jax.vjp``
    column is."""
    subject, names, seed = context.subject, context.names, context.seed
    own = AGREEMENT.get(subject.dtype, AGREEMENT[np.dtype("float32")]).rtol
    rtol, atol = context.caller or (own, 0.0)
    rng = np.random.default_rng(seed + 1)
    draw = lambda c: rng.standard_normal((BATCH, *np.shape(c))).astype(subject.dtype)  # noqa: E731
    stacked = tuple(draw(c) for c in subject.cotangents)
    if subject.style == "documents":
        cache = subject.call(*subject.values)[-1]
        one = lambda *cots: subject.backward(*cots, cache)  # noqa: E731
    else:
        one = lambda *cots: subject.backward(dict(subject.inputs), cots)  # noqa: E731
    try:
        mapped = _named(subject, jax.vmap(one)(*stacked))
    except Exception as err:  # noqa: BLE001 - reported against every gradient
        failure = f"fails under jax.vmap ({type(err).__name__})"
        return {n: Opinion(fault=failure) for n in names}
    loop = [_named(subject, one(*(s[b] for s in stacked))) for b in range(BATCH)]
    opinions = {}
    for n in names:
        if n not in mapped or any(n not in each for each in loop):
            continue
        got = np.asarray(mapped[n], np.float64)
        want = np.stack([np.asarray(each[n], np.float64) for each in loop])
        if got.shape != want.shape:
            opinions[n] = Opinion(fault=f"shape {got.shape} under vmap, {want.shape} in a loop")
            continue
        scale = float(np.max(np.abs(want), initial=0.0))
        error = relative_error(got, want)
        bound = rtol + (atol / scale if scale else 0.0)
        if error > bound and n in context.noise:
            size = float(np.max(np.abs(np.asarray(context.manual[n], np.float64)), initial=0.0))
            moved = float(np.max(context.noise[n], initial=0.0))
            bound += ROUNDING_NOISE * (moved / size if size else 0.0)
        opinions[n] = Opinion(error, bound)
    return opinions


def _named(subject: Subject, gradients) -> dict:
    """A backward's result as ``{"d<name>": value}`` (a vjp-style one is shaped like the
    inputs)."""
    if not isinstance(gradients, dict):
        return {}
    if subject.style == "documents":
        return dict(gradients)
    return documents_names(gradients, like=dict(subject.inputs))


def second_order(context: Context) -> dict:
    """The gradient of ``<w, backward(u)>`` with respect to the inputs, the backward run under
    ``jax.grad`` (as :mod:`jaxrnn.custom_vjp` runs it), against the same of ``jax.vjp``: right
    first derivatives with a wrong second (a ``stop_gradient`` on a term) fail here. In
    float64; the rows are the inputs'. The caller's ``rtol`` in place of float64's agreement
    tolerance."""
    subject, names, seed, caller = context.subject, context.names, context.seed, context.caller
    if not subject.traced:
        raise NotApplicable("the forward is NumPy code, which jax.grad cannot differentiate")
    tolerance = AGREEMENT[np.dtype("float64")].rtol if caller is None else caller[0]
    with jax.enable_x64(True):
        exact = subject.in_float64()
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


#: every opinion, in the table's order: its key, its name where a gradient fails, its columns,
#: its name in the notes, and the function that forms it
SOURCES = (
    Source("vjp", "jax.vjp", ("max abs err", "max rel err"), vjp_opinion, "jax.vjp"),
    Source("fd", "finite differences", ("FD rel err", "FD tol"), finite_difference_opinion,
           "finite differences"),
    Source("adjoint", "jax.jvp", ("vs jvp", "jvp tol"), forward_mode, "forward mode"),
    Source("batched", "vmap", ("vmap err", "vmap tol"), batched, "vmap"),
    Source("second_order", "second order", ("2nd-order err", "2nd tol"), second_order,
           "second order"),
)  # fmt: skip
