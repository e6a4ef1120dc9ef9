"""Today's recurrences, linear in the state: minGRU, minLSTM and the LRU. Each hand-derived
backward agrees with autodiff, finite differences and forward mode; the parallel scan agrees
with the step-by-step path, lengths and reversed time included; and a planted error in any
one backward equation is caught and located."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxrnn
from jaxrnn import autodiff, custom_vjp, layers, loss
from jaxrnn.cells import lru, mingru, minlstm
from jaxrnn.gradcheck import check_backward
from jaxrnn.problems import check_problem

LINEAR_CELLS = {"mingru": (mingru, mingru.MINGRU), "minlstm": (minlstm, minlstm.MINLSTM),
                "lru": (lru, lru.LRU)}  # fmt: skip
SIZES = {"n_x": 3, "n_a": 4, "n_y": 2, "m": 5, "T": 7}
LENGTHS = np.array([7, 3, 0, 5, 1])
#: float64 agreement of two paths computing the same sums in another order
CLOSE = {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def problem(rng, n_a=SIZES["n_a"], T=SIZES["T"], complex_state=False):
    x = rng.standard_normal((SIZES["n_x"], SIZES["m"], T))
    a0 = rng.standard_normal((n_a, SIZES["m"]))
    da = rng.standard_normal((n_a, SIZES["m"], T))
    if complex_state:
        a0 = a0 + 1j * rng.standard_normal(a0.shape)
        da = da + 1j * rng.standard_normal(da.shape)
    return x, a0, da


def assert_same(got: dict, want: dict):
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), **CLOSE,
                                   err_msg=key)  # fmt: skip


@pytest.mark.parametrize("name", list(LINEAR_CELLS))
@pytest.mark.parametrize("options", [{}, {"lengths": LENGTHS}, {"reverse": True},
                                     {"lengths": LENGTHS, "reverse": True}],
                         ids=["plain", "lengths", "reverse", "lengths-reverse"])  # fmt: skip
def test_the_parallel_scan_is_the_step_by_step_path(name, options):
    module, cell = LINEAR_CELLS[name]
    rng = np.random.default_rng(0)
    p = cell.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"], np.float64)
    x, a0, da = problem(rng, complex_state=cell.complex_state)
    a, y, caches = cell.forward(x, a0, p, **options)
    pa, py, cache = getattr(module, f"{name}_parallel_forward")(x, a0, p, **options)
    assert_same({"a": pa, "y": py}, {"a": a, "y": y})
    want = cell.backward(da[..., :5], caches)
    assert_same(getattr(module, f"{name}_parallel_backward")(da[..., :5], cache), want)
    # the cell on the scan: the same outputs, the same caches within every length
    sa, sy, scanned = cell.parallel_scan.forward(x, a0, p, **options)
    assert_same({"a": sa, "y": sy}, {"a": a, "y": y})
    assert_same(cell.parallel_scan.backward(da[..., :5], scanned), want)
    inside = np.ones((SIZES["T"], 1, SIZES["m"]), bool) if "lengths" not in options else (
        np.arange(SIZES["T"])[:, None, None] < options["lengths"][None, None, :]
    )  # fmt: skip
    for field, got, expected in zip(cell.cache_fields, scanned[0].fields, caches[0].fields,
                                    strict=True):  # fmt: skip
        if got.shape[-1] == SIZES["m"]:  # a field of every example (λ of the LRU is not)
            got, expected = np.where(inside, got, 0), np.where(inside, expected, 0)
        np.testing.assert_allclose(got, expected, **CLOSE, err_msg=field)


@pytest.mark.parametrize("name", list(LINEAR_CELLS))
@pytest.mark.parametrize("level", ["cell", "sequence", "lengths", "reverse"])
def test_the_step_by_step_backward_agrees_with_every_opinion(name, level):
    report = check_problem(LINEAR_CELLS[name][1], level, finite_differences=True)
    assert report.ok, report
    assert {"vjp", "fd", "adjoint"} <= {s.key for s in report.sources}


@pytest.mark.parametrize("name", list(LINEAR_CELLS))
@pytest.mark.parametrize("level", ["lengths", "reverse", "bidirectional"])
def test_the_cell_on_the_parallel_scan_agrees_with_every_opinion(name, level):
    """``cell.parallel_scan``'s hand-derived backward (the adjoints' reverse scan, then every
    step's parameter gradients at once) against jax.vjp of its own forward (the associative
    scan), forward mode and finite differences."""
    report = check_problem(LINEAR_CELLS[name][1].parallel_scan, level, finite_differences=True)
    assert report.ok, report
    assert {"vjp", "fd", "adjoint"} <= {s.key for s in report.sources}


@pytest.mark.parametrize("name", list(LINEAR_CELLS))
def test_everything_that_takes_a_cell_takes_it_on_the_parallel_scan(name):
    """The loss, the custom VJP (with checkpointing, which runs step by step) and the hidden
    states' whole gradients give what the step-by-step cell gives."""
    cell = LINEAR_CELLS[name][1]
    scan = cell.parallel_scan
    assert repr(scan) == f"<Cell {name!r}: state ('a',), parallel scan>"
    assert scan.parallel_scan is scan and scan.generic.parallel is False
    rng = np.random.default_rng(15)
    p = cell.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"], np.float64)
    x, a0, da = problem(rng, complex_state=cell.complex_state)
    labels = rng.integers(0, SIZES["n_y"], (SIZES["m"], SIZES["T"]))
    options = {"lengths": LENGTHS, "reverse": True}
    assert_same(loss.loss_and_gradients(scan, x, a0, p, labels, **options)[1],
                loss.loss_and_gradients(cell, x, a0, p, labels, **options)[1])  # fmt: skip
    want = jax.grad(lambda p: real_loss(custom_vjp.of(cell)(x, a0, p, **options)))(p)
    for checkpoint in (None, 3):
        sequence = functools.partial(custom_vjp.of(scan), checkpoint=checkpoint, **options)
        assert_same(jax.grad(lambda p, f=sequence: real_loss(f(x, a0, p)))(p), want)
    caches = (scan.forward(x, a0, p, **options)[-1], cell.forward(x, a0, p, **options)[-1])
    assert_same(
        {"da": loss.hidden_state_gradients(scan, da, caches[0])},
        {"da": loss.hidden_state_gradients(cell, da, caches[1])},
    )


def test_only_a_linear_cell_has_a_parallel_scan():
    scan = jaxrnn.cells.resolve("f", "lru.parallel_scan")
    assert scan is lru.LRU.parallel_scan and jaxrnn.cells.label(scan) == "lru.parallel_scan"
    assert jaxrnn.cells.resolve("f", "jaxrnn.cells.mingru:MINGRU.parallel_scan").parallel
    with pytest.raises(TypeError, match=r"Cell 'lstm' is not linear in its state"):
        jaxrnn.cells.LSTM.parallel_scan  # noqa: B018
    with pytest.raises(ValueError, match=r"`parallel` runs the parallel scan"):
        dataclasses.replace(jaxrnn.cells.LSTM, parallel=True)


def real_loss(outputs):
    """A real loss of the states (complex for the LRU) and the predictions, each counted."""
    a, y = outputs[:2]
    return jnp.sum(jnp.abs(a) ** 2) + jnp.sum(jnp.sin(3 * y))


@pytest.mark.parametrize("name", list(LINEAR_CELLS))
def test_the_loss_and_the_custom_vjp_take_them_as_any_cell(name):
    """The loss's hand-derived gradient, the LRU's readout (LRU14)-(LRU18) included, is
    ``jax.grad`` of the cross-entropy for every input; the custom VJP's, of a loss of the
    states and the predictions, is ``jax.grad`` of the plain forward's."""
    cell = LINEAR_CELLS[name][1]
    rng = np.random.default_rng(8)
    p = cell.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"], np.float64)
    x, a0, _ = problem(rng, complex_state=cell.complex_state)
    labels = rng.integers(0, SIZES["n_y"], (SIZES["m"], SIZES["T"]))
    J, gradients = loss.loss_and_gradients(name, x, a0, p, labels, lengths=LENGTHS)
    dx, da0, dp = jax.grad(
        lambda x, a0, p: loss.cross_entropy(name, x, a0, p, labels, lengths=LENGTHS), (0, 1, 2)
    )(x, a0, p)
    assert_same(gradients, {"dx": dx, "da0": da0, **{f"d{k}": dp[k] for k in cell.gradient_keys},
                            **{f"d{k}": dp[k] for k in cell.output}})  # fmt: skip
    options = {"lengths": LENGTHS, "reverse": True}
    by_vjp = jax.grad(lambda *args: real_loss(custom_vjp.of(cell)(*args, **options)), (0, 1, 2))
    plain = jax.grad(lambda *args: real_loss(cell.forward(*args, **options)), (0, 1, 2))
    got, want = by_vjp(x, a0, p), plain(x, a0, p)
    assert_same({"dx": got[0], "da0": got[1], **got[2]}, {"dx": want[0], "da0": want[1], **want[2]})


def test_a_long_sequence_of_contracting_steps_stays_finite():
    """10,000 steps of minGRU whose gates keep about half of the state: the products of λ
    underflow to zero long before the end, and nothing becomes NaN or inf."""
    rng = np.random.default_rng(1)
    p = mingru.MINGRU.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"],
                                        np.float64)  # fmt: skip
    x, a0, da = problem(rng, T=10_000)
    a, y, caches = mingru.MINGRU.forward(x, a0, p)
    pa, py, cache = mingru.mingru_parallel_forward(x, a0, p)
    assert_same({"a": pa}, {"a": a})
    gradients = mingru.mingru_parallel_backward(da, cache)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in gradients.values())
    assert_same(gradients, mingru.MINGRU.backward(da, caches))


# ------------------------------------------------------------------------------- the LRU


def lru_problem(rng, T=SIZES["T"]):
    p = lru.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"])
    return p, *problem(rng, T=T, complex_state=True)


def test_the_lru_cell_backward_agrees_in_jaxs_convention():
    rng = np.random.default_rng(2)
    p, x, a0, da = lru_problem(rng)
    inputs = {"xt": x[..., 0], "a_prev": a0, "parameters": p}
    report = check_backward(lru.lru_cell_forward, lru.lru_cell_backward, inputs, da[..., 0],
                            finite_differences=True)  # fmt: skip
    assert report.ok, report
    assert report.complex == ["da_prev"] and set(report.not_returned) == {"dC_re", "dC_im", "dD"}


@pytest.mark.parametrize("reverse", [False, True])
def test_the_lru_sequence_backward_is_what_jax_vjp_returns(reverse):
    rng = np.random.default_rng(3)
    p, x, a0, da = lru_problem(rng)
    a, y, cache = lru.lru_parallel_forward(x, a0, p, reverse=reverse)
    states, vjp = jax.vjp(lambda x, a0, p: lru.sequential_states(x, a0, p, reverse), x, a0, p)
    assert_same({"a": a}, {"a": states})
    dx, da0, dp = vjp(da)
    want = {"dx": dx, "da0": da0, **{f"d{k}": dp[k] for k in lru.GRADIENT_KEYS}}
    assert_same(lru.lru_parallel_backward(da, cache), want)
    step_by_step = lru.lru_parallel_forward(x, a0, p, reverse=reverse, parallel=False)[2]
    assert_same(lru.lru_parallel_backward(da, step_by_step, parallel=False), want)


def test_the_lru_with_lengths_is_what_jax_vjp_of_it_returns():
    rng = np.random.default_rng(4)
    p, x, a0, da = lru_problem(rng)
    a, y, cache = lru.lru_parallel_forward(x, a0, p, lengths=LENGTHS, reverse=True)
    assert not np.any(np.asarray(a)[:, 1, 3:]) and not np.any(np.asarray(y)[:, 2, :])
    options = {"lengths": LENGTHS, "reverse": True}
    _, vjp = jax.vjp(lambda *args: lru.lru_parallel_forward(*args, **options)[0], x, a0, p)
    dx, da0, dp = vjp(da)
    want = {"dx": dx, "da0": da0, **{f"d{k}": dp[k] for k in lru.GRADIENT_KEYS}}
    assert_same(lru.lru_parallel_backward(da, cache), want)
    # an example of length 0 keeps its a0, and passes its gradient back whole
    np.testing.assert_array_equal(np.asarray(lru.lru_parallel_backward(da, cache)["da0"])[:, 2], 0)


@pytest.mark.parametrize("options", [{}, {"lengths": LENGTHS, "reverse": True}],
                         ids=["sequence", "lengths-reverse"])  # fmt: skip
def test_the_lru_sequence_backward_agrees_with_every_opinion(options):
    """lru_backward as a backward of the states, judged by jax.vjp, forward mode and finite
    differences along the real and imaginary parts."""
    rng = np.random.default_rng(9)
    p, x, a0, da = lru_problem(rng)

    def states(x, a0, parameters):  # the states, and the forward's own cache last
        a, _, cache = lru.lru_parallel_forward(x, a0, parameters, **options)
        return a, cache

    inputs = {"x": x, "a0": a0, "parameters": p}  # the readout's parameters get no gradient
    report = check_backward(states, lru.lru_parallel_backward, inputs, da, finite_differences=True,
                            skip=["dC_re", "dC_im", "dD"])  # fmt: skip
    assert report.ok, report
    assert {s.key for s in report.sources} == {"vjp", "fd", "adjoint"}


def test_the_lru_over_a_long_sequence():
    rng = np.random.default_rng(5)
    p, x, a0, da = lru_problem(rng, T=10_000)
    a, _, cache = lru.lru_parallel_forward(x, a0, p)
    a_seq, _, seq = lru.lru_parallel_forward(x, a0, p, parallel=False)
    assert_same({"a": a}, {"a": a_seq})
    assert_same(
        lru.lru_parallel_backward(da, cache), lru.lru_parallel_backward(da, seq, parallel=False)
    )


def test_a_conjugated_lru_gradient_fails_where_it_is_imaginary():
    rng = np.random.default_rng(6)
    p, x, a0, da = lru_problem(rng)

    def conjugated(da_next, cache):  # the commonest complex slip: conj of JAX's gradient
        gradients = lru.lru_cell_backward(da_next, cache)
        return gradients | {"da_prev": jnp.conj(gradients["da_prev"])}

    inputs = {"xt": x[..., 0], "a_prev": a0, "parameters": p}
    report = check_backward(lru.lru_cell_forward, conjugated, inputs, da[..., 0],
                            dims={"da_prev": "n_a m"})  # fmt: skip
    assert report.failed == ["da_prev"]
    assert report.rows[1].where.meaning.endswith("imaginary part")


# ------------------------------------------------------------- a planted error in each equation


def planted(function, tag: str):
    """``function`` with the right-hand side of the line of equation ``tag`` times 1.1."""
    source = textwrap.dedent(inspect.getsource(function))
    pattern = re.compile(rf"^(\s*\w+) = (.+?)(  # {re.escape(tag)}.*)$", re.M)
    assert len(pattern.findall(source)) == 1, tag
    mutated = pattern.sub(r"\1 = (\2) * 1.1\3", source)
    namespace = dict(function.__globals__)
    exec(compile(mutated, f"<{function.__name__} with {tag} planted>", "exec"), namespace)  # noqa: S102
    return namespace[function.__name__]


def backward_tags(module, function) -> list[str]:
    """The backward equations the backward's own lines compute, one a line (not the forward's
    it recomputes)."""
    source = inspect.getsource(function)
    tags = [f"({t})" for t in re.findall(r"^\s*\w+ = .+  # \((\w+)\)$", source, re.M)]
    return [t for t in tags if t not in module.EQUATIONS_OF["a_next"]]


def cell_inputs(name, rng):
    if name == "lru":
        p, x, a0, da = lru_problem(rng)
        return {"xt": x[..., 0], "a_prev": a0, "parameters": p}, da[..., 0]
    cell = LINEAR_CELLS[name][1]
    p = cell.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"], np.float64)
    x, a0, da = problem(rng)
    return {"xt": x[..., 0], "a_prev": a0, "parameters": p}, da[..., 0]


MODULES = {"mingru": mingru, "minlstm": minlstm, "lru": lru}
PLANTED = [(name, tag) for name, module in MODULES.items()
           for tag in backward_tags(module, getattr(module, f"{name}_cell_backward"))]  # fmt: skip


def test_every_backward_equation_is_planted():
    assert {tag for _, tag in PLANTED} >= {f"(MG{i})" for i in range(4, 12)} | {
        f"(ML{i})" for i in range(7, 20)} | {f"(LRU{i})" for i in range(5, 14)}  # fmt: skip


@pytest.mark.parametrize("name,tag", PLANTED, ids=[f"{n}-{t}" for n, t in PLANTED])
def test_a_planted_error_is_caught_and_located(name, tag):
    module = MODULES[name]
    forward = getattr(module, f"{name}_cell_forward")
    backward = planted(getattr(module, f"{name}_cell_backward"), tag)
    inputs, cotangent = cell_inputs(name, np.random.default_rng(7))
    report = check_backward(forward, backward, inputs, cotangent, adjoint=False,
                            dims={"da_prev": "n_a m", "dxt": "n_x m"})  # fmt: skip
    suspects = {k for k, equations in module.EQUATIONS_OF.items() if tag in equations}
    assert report.failed and set(report.failed) <= suspects, (tag, report.failed, suspects)
    assert all(row.where is not None for row in report.rows if row.name in report.failed)


#: the lines of the parallel path's ``coefficients_backward`` that compute one equation each
PLANTED_ON_THE_SCAN = [
    (name, f"({tag})") for name, module in MODULES.items()
    for tag in re.findall(r"^\s*\w+ = .+  # \((\w+)\)", inspect.getsource(
        module.coefficients_backward), re.M)
]  # fmt: skip
#: a cell level's gradients under the sequence level's names
SEQUENCE_NAMES = {"dxt": "dx", "da_prev": "da0"}


def test_the_scans_equations_are_planted():
    assert len(PLANTED_ON_THE_SCAN) == 11 and {n for n, _ in PLANTED_ON_THE_SCAN} == set(MODULES)


@pytest.mark.parametrize("name,tag", PLANTED_ON_THE_SCAN,
                         ids=[f"{n}-{t}" for n, t in PLANTED_ON_THE_SCAN])  # fmt: skip
def test_a_planted_error_on_the_parallel_scan_is_caught_and_located(name, tag):
    """The cell on its scan runs its ``coefficients_backward``, a form of its own of the
    backward equations: an error in one of its lines fails only the gradients it reaches."""
    module, cell = MODULES[name], LINEAR_CELLS[name][1]
    wrong = cell.linear._replace(coefficients_backward=planted(module.coefficients_backward, tag))
    scan = dataclasses.replace(cell, linear=wrong, forward=None, backward=None).parallel_scan
    report = check_problem(scan, "lengths", finite_differences=False, adjoint=False)
    suspects = {SEQUENCE_NAMES.get(k, k) for k, equations in module.EQUATIONS_OF.items()
                if tag in equations}  # fmt: skip
    assert report.failed and set(report.failed) <= suspects, (tag, report.failed, suspects)


def test_the_lru_keeps_no_buffer_of_the_callers():
    """The cache and the results do not change when the caller writes into their arrays."""
    rng = np.random.default_rng(10)
    p, x, a0, da = lru_problem(rng)
    a, y, cache = lru.lru_parallel_forward(x, a0, p)
    step = lru.lru_cell_forward(x[..., 0].copy(), a0, p)
    kept = [np.array(v) for v in (a, y, cache.xs, cache.parameters["B_re"], step[2].xt)]
    x[...] = 7.0
    a0[...] = 7.0
    p["B_re"][...] = 7.0
    now = [np.array(v) for v in (a, y, cache.xs, cache.parameters["B_re"], step[2].xt)]
    for before, after in zip(kept, now, strict=True):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("fn", ["lru_forward", "lru_parallel_forward"])
def test_both_lru_paths_name_a_wrong_argument(fn):
    rng = np.random.default_rng(11)
    p, x, a0, _ = lru_problem(rng)
    forward = getattr(lru, fn)
    with pytest.raises(ValueError, match=rf"{fn}: `a0`"):
        forward(x, a0[:2], p)
    with pytest.raises(ValueError, match=rf"{fn}: .*parameters\['D'\]"):
        forward(x, a0, p | {"D": p["D"][:, :1]})


# ------------------------------------------------------- the LRU as a cell: readout, layers


READOUT_TAGS = [f"(LRU{i})" for i in range(14, 19)]
#: the loss's gradients each readout equation reaches: (LRU14)'s da feeds the whole backward
READOUT_REACHES = {"(LRU14)": {"dx", "da0", *(f"d{k}" for k in lru.GRADIENT_KEYS)},
                   "(LRU15)": {"dC_re"}, "(LRU16)": {"dC_im"}, "(LRU17)": {"dD"},
                   "(LRU18)": {"dx"}}  # fmt: skip


def test_every_readout_equation_is_planted():
    source = inspect.getsource(lru.readout_backward)
    assert re.findall(r"  # (\(LRU\d+\))$", source, re.M) == READOUT_TAGS


@pytest.mark.parametrize("tag", READOUT_TAGS)
def test_a_planted_error_in_the_readout_is_caught_by_the_loss(tag):
    """The loss runs the readout's hand-derived backward: an error in one of its equations
    makes exactly the gradients it reaches disagree with ``jax.grad`` of the cross-entropy."""
    rng = np.random.default_rng(12)
    p, x, a0, _ = lru_problem(rng)
    labels = rng.integers(0, SIZES["n_y"], (SIZES["m"], SIZES["T"]))
    readout = lru.READOUT._replace(backward=planted(lru.readout_backward, tag))
    cell = dataclasses.replace(lru.LRU, readout=readout)
    _, gradients = loss.loss_and_gradients(cell, x, a0, p, labels, lengths=LENGTHS)
    _, right = loss.loss_and_gradients(lru.LRU, x, a0, p, labels, lengths=LENGTHS)
    dx, da0, dp = jax.grad(
        lambda x, a0, p: loss.cross_entropy(lru.LRU, x, a0, p, labels, lengths=LENGTHS), (0, 1, 2)
    )(x, a0, p)
    want = {"dx": dx, "da0": da0, **{f"d{k}": v for k, v in dp.items()}}
    assert_same({k: right[k] for k in want}, want)
    wrong = {k for k in want if not np.allclose(gradients[k], want[k], **CLOSE)}
    assert wrong == READOUT_REACHES[tag]


def test_a_stack_refuses_a_complex_state_and_a_layer_takes_it():
    rng = np.random.default_rng(13)
    p, x, a0, da = lru_problem(rng)
    recurrent = {k: p[k] for k in lru.GRADIENT_KEYS}
    with pytest.raises(TypeError, match=r"stack_forward, layer 0 .*lru cell's state is complex"):
        layers.stack_forward([lru.LRU], x, [a0], [recurrent])
    a, caches = layers.layer_forward(lru.LRU, x, a0, recurrent, lengths=LENGTHS)
    assert a.dtype == np.complex128
    _, vjp = jax.vjp(lambda x, a0, p: layers.layer_forward(lru.LRU, x, a0, p, lengths=LENGTHS)[0],
                     x, a0, recurrent)  # fmt: skip
    dx, da0, dp = vjp(da)
    want = {"dx": dx, "da0": da0, **{f"d{k}": dp[k] for k in lru.GRADIENT_KEYS}}
    assert_same(layers.layer_backward(lru.LRU, da, caches), want)


def test_a_complex_state_is_the_lrus_alone():
    """A real a0 starts the LRU as a complex one; a complex a0 is refused by a real cell, not
    silently cast (its imaginary part would be lost)."""
    rng = np.random.default_rng(14)
    p, x, a0, da = lru_problem(rng)
    a, _, caches = lru.lru_forward(x, a0.real, p)
    np.testing.assert_allclose(a, lru.lru_forward(x, a0.real + 0j, p)[0], **CLOSE)
    assert lru.lru_backward(da, caches)["da0"].dtype == np.complex128
    q = mingru.MINGRU.random_parameters(rng, SIZES["n_x"], SIZES["n_a"], SIZES["n_y"])
    with pytest.raises(TypeError, match=r"mingru_forward: `a0` must hold real numbers"):
        mingru.MINGRU.forward(x, a0, q)
    with pytest.raises(TypeError, match=r"`readout` must be a jaxrnn Output"):
        dataclasses.replace(lru.LRU, readout=("C_re", "C_im", "D"))


def test_the_autodiff_twins_take_a_complex_state():
    """jaxrnn.autodiff's twins of the LRU's backward functions, and its whole gradients of
    the hidden states, are the manual ones: JAX's convention on both sides."""
    rng = np.random.default_rng(16)
    p, x, a0, da = lru_problem(rng)
    options = {"lengths": LENGTHS, "reverse": True}
    _, _, caches = lru.lru_forward(x, a0, p, **options)
    want = lru.lru_backward(da, caches)
    assert_same(autodiff.backward_twin(lru.LRU)(da, caches), want)
    assert_same(autodiff.hidden_loss_gradients(lru.LRU, da, x, a0, p, **options), want)
    step = lru.lru_cell_forward(x[..., 0], a0, p)[-1]
    assert_same(autodiff.cell_backward_twin(lru.LRU)(da[..., 0], step),
                lru.lru_cell_backward(da[..., 0], step))  # fmt: skip
    _, _, plain = lru.lru_forward(x, a0, p)
    assert_same({"da": autodiff.hidden_state_gradients(lru.LRU, da, x, a0, p)},
                {"da": loss.hidden_state_gradients(lru.LRU, da, plain)})  # fmt: skip


def test_the_lru_starts_where_the_paper_does():
    """``LRU.init`` (the modules' start) draws as ``lru.random_parameters`` does: ``λ`` on the
    ring ``0.4 <= |λ| <= 0.99`` with phases in ``[0, π]``, ``γ = sqrt(1 - |λ|²)``."""
    p = lru.LRU.init(jax.random.key(0), n_x=3, n_a=256, n_y=2, dtype=jnp.float64)
    assert {k: v.shape for k, v in p.items()} == lru.LRU.shapes(3, 256, 2)
    lam, gamma = lru.eigenvalues(p)
    radius, phase = np.abs(np.asarray(lam)), np.angle(np.asarray(lam))
    assert radius.min() >= 0.4 - 1e-12 and radius.max() <= 0.99 + 1e-12
    assert phase.min() >= 0 and phase.max() <= np.pi
    np.testing.assert_allclose(np.asarray(gamma), np.sqrt(1 - radius**2), rtol=1e-12)
    assert np.std(np.asarray(p["B_re"])) == pytest.approx(1 / np.sqrt(6), rel=0.1)
