"""The gradient checker catches a wrong backward and names the wrong gradient."""

import re

import jax
import numpy as np
import pytest
from helpers import cell_inputs, saturated_problem

import jaxrnn
from jaxrnn.cells import CELLS, LSTM, RNN
from jaxrnn.gradcheck import check_backward

GRADIENTS = ["dxt", "da_prev", "dc_prev", *(f"d{k}" for k in LSTM.gradient_keys)]


def lstm_cell_problem(dtype, seed=0):
    xt, (a_prev, c_prev), parameters, dstate = cell_inputs(
        LSTM, np.random.default_rng(seed), 3, 4, 2, 5, dtype
    )
    inputs = {"xt": xt, "a_prev": a_prev, "c_prev": c_prev, "parameters": parameters}
    return inputs, tuple(dstate)


def planted(name, size=1e-2):
    """lstm_cell_backward with one gradient off by ``size`` of its own scale."""

    def backward(da_next, dc_next, cache):
        gradients = dict(jaxrnn.lstm_cell_backward(da_next, dc_next, cache))
        g = gradients[name]
        gradients[name] = g + size * np.max(np.abs(g)) * np.sign(np.asarray(g) + 0.5)
        return gradients

    return backward


@pytest.mark.parametrize("name", GRADIENTS)
def test_each_planted_error_is_caught_and_named(name, dtype):
    inputs, cotangents = lstm_cell_problem(dtype)
    fd = dtype == np.float64
    report = check_backward(
        jaxrnn.lstm_cell_forward, planted(name), inputs, cotangents, finite_differences=fd
    )
    assert not report.ok
    assert report.failed == [name], f"\n{report}"
    assert f"WRONG: {name}" in report.table()


def test_the_documents_backward_passes(dtype):
    inputs, cotangents = lstm_cell_problem(dtype)
    report = check_backward(
        jaxrnn.lstm_cell_forward, jaxrnn.lstm_cell_backward, inputs, cotangents,
        finite_differences=dtype == np.float64,
    )  # fmt: skip
    assert report.ok, f"\n{report}"
    assert [row.name for row in report.rows] == GRADIENTS
    assert report.not_returned == ["dWy", "dby"]
    assert "all gradients agree" in str(report)


def test_a_missing_factor_in_eq_20_is_caught():
    """The gradient checker page's example: dc_prev without ft in its second term."""

    def broken(da_next, dc_next, cache):
        gradients = jaxrnn.lstm_cell_backward(da_next, dc_next, cache)
        a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
        return gradients | {"dc_prev": dc_next * ft + ot * (1 - np.tanh(c_next) ** 2) * da_next}

    inputs, cotangents = lstm_cell_problem(np.float32)
    report = check_backward(jaxrnn.lstm_cell_forward, broken, inputs, cotangents)
    assert report.failed == ["dc_prev"]


def test_vjp_style_backward():
    """A plain VJP: (inputs, cotangents) -> gradients shaped like the inputs."""

    def my_vjp(inputs, cotangents):
        cache = jaxrnn.lstm_cell_forward(*inputs.values())[-1]
        g = jaxrnn.lstm_cell_backward(*cotangents, cache)
        params = {k: g[f"d{k}"] for k in LSTM.gradient_keys}
        return {
            "xt": g["dxt"],
            "a_prev": g["da_prev"],
            "c_prev": 2 * g["dc_prev"],
            "parameters": params,
        }

    inputs, cotangents = lstm_cell_problem(np.float32)
    report = check_backward(jaxrnn.lstm_cell_forward, my_vjp, inputs, cotangents, style="vjp")
    assert report.failed == ["dc_prev"]


def test_wrong_shape_unknown_name_and_nan_are_failures():
    def malformed(da_next, dc_next, cache):
        gradients = dict(jaxrnn.lstm_cell_backward(da_next, dc_next, cache))
        gradients["dWf"] = gradients["dWf"][:, :-1]
        gradients["dbi"] = gradients["dbi"] * np.nan
        gradients["dWz"] = gradients["dWo"]
        return gradients

    inputs, cotangents = lstm_cell_problem(np.float32)
    report = check_backward(jaxrnn.lstm_cell_forward, malformed, inputs, cotangents)
    assert sorted(report.failed) == ["dWf", "dWz", "dbi"]
    problems = {row.name: row.fault for row in report.rows if not row.ok}
    assert "shape (4, 6), expected (4, 7)" in problems["dWf"]
    assert "no input named 'Wz'" in problems["dWz"]


@pytest.mark.parametrize("error", [0.0, 1e-2])
def test_a_vanishing_gradient_is_checked_to_the_quotients_rounding_noise(error):
    """A saturated RNN whose da0 is 1.8e-5 (a case hypothesis found): the difference quotient's
    rounding noise, ~2e-11 here, is about rtol |g|, so a correct da0 must pass while the same
    gradient 1% off must still fail."""
    from helpers import sequence_inputs

    from jaxrnn.cells import RNN

    rng = np.random.default_rng(2**31 - 1)
    x, a0, parameters, da = sequence_inputs(RNN, rng, 3, 2, 2, 1, 4)

    def backward(da, caches):
        gradients = dict(jaxrnn.rnn_backward(da, caches))
        gradients["da0"] = gradients["da0"] * (1 + error)
        return gradients

    with jax.enable_x64(True):
        caches = jaxrnn.rnn_forward(x, a0, parameters)[-1]
        assert np.max(np.abs(jaxrnn.rnn_backward(da, caches)["da0"])) < 1e-4  # it is vanishing
        report = check_backward(
            jaxrnn.rnn_forward, backward, {"x": x, "a0": a0, "parameters": parameters}, (da,),
            finite_differences=True, seed=2**31 - 1,
        )  # fmt: skip
    da0 = next(row for row in report.rows if row.name == "da0")
    assert report.ok == (error == 0.0), f"\n{report}"
    assert (da0["fd"].error > da0["fd"].tolerance) == (error > 0.0), f"\n{report}"


def rnn_sequence(T_x, n_a, m, seed=0, n_x=3, scale=1.0):
    from jaxrnn.cells import RNN

    rng = np.random.default_rng(seed)
    parameters = RNN.random_parameters(rng, n_x, n_a, 2, np.float64, scale)
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    return {"x": x, "a0": a0, "parameters": parameters}, rng.standard_normal((n_a, m, T_x))


def test_finite_differences_pass_a_chaotic_rnn_over_50_steps():
    """n_a = 16, T_x = 50: the gradient is ~1e7 and changes on a scale of ~1e-9. One fixed step
    of 1e-5 failed this correct backward (FD error 0.4-1.2 against 1e-6); the step ladder
    settles where the quotients agree, passes it, and still catches one entry of dWaa 1e-3 off."""
    inputs, da = rnn_sequence(50, 16, 10)

    def one_entry_off(da, caches):
        gradients = dict(jaxrnn.rnn_backward(da, caches))
        dWaa = np.array(gradients["dWaa"])
        dWaa[1, 1] += 1e-3 * np.max(np.abs(dWaa))
        return gradients | {"dWaa": dWaa}

    with jax.enable_x64(True):
        report = check_backward(jaxrnn.rnn_forward, jaxrnn.rnn_backward, inputs, da,
                                finite_differences=True)  # fmt: skip
        planted = check_backward(jaxrnn.rnn_forward, one_entry_off, inputs, da,
                                 finite_differences=True)  # fmt: skip
    assert report.ok, f"\n{report}"
    assert not report.unsettled and all(row["fd"].settled for row in report.rows)
    assert max(row["fd"].tolerance for row in report.rows) < 1e-4  # resolved, not waved through
    row = next(r for r in planted.rows if r.name == "dWaa")
    assert row["fd"].error > row["fd"].tolerance, f"\n{planted}"


@pytest.mark.parametrize("name", ["dx", "dWaa"])
def test_finite_differences_catch_one_entry_off_by_1e_3_over_a_long_sequence(name):
    """A 1e-3 error (of the gradient's largest entry) in a single entry, T_x = 200: finite
    differences alone call it wrong."""
    inputs, da = rnn_sequence(200, 8, 4, seed=1, scale=0.5)

    def backward(da, caches):
        gradients = dict(jaxrnn.rnn_backward(da, caches))
        g = np.array(gradients[name])
        g[(1,) * g.ndim] += 1e-3 * np.max(np.abs(g))
        return gradients | {name: g}

    with jax.enable_x64(True):
        report = check_backward(jaxrnn.rnn_forward, backward, inputs, da, finite_differences=True)
    row = next(r for r in report.rows if r.name == name)
    assert row["fd"].settled and row["fd"].error > row["fd"].tolerance, f"\n{report}"
    assert report.failed == [name]


def test_finite_differences_that_settle_nowhere_neither_pass_nor_fail():
    """n_a = 16 over 1000 steps: the gradient is ~1e66, beyond any step float64 can take. The
    quotients settle on no value; that is said, and the verdict rests on jax.vjp."""
    inputs, da = rnn_sequence(1000, 16, 4)
    with jax.enable_x64(True):
        report = check_backward(jaxrnn.rnn_forward, jaxrnn.rnn_backward, inputs, da,
                                finite_differences=True)  # fmt: skip
    assert report.unsettled == ["dx", "da0", "dWax", "dWaa", "dba"], f"\n{report}"
    assert report.ok
    assert "settled on no value for dx, da0, dWax, dWaa, dba" in str(report)


def test_a_gradient_left_out_is_a_failure():
    """Only dWf returned: every other gradient the forward has is missing, and fails."""

    def only_dWf(da_next, dc_next, cache):
        return {"dWf": jaxrnn.lstm_cell_backward(da_next, dc_next, cache)["dWf"]}

    inputs, cotangents = lstm_cell_problem(np.float32)
    report = check_backward(jaxrnn.lstm_cell_forward, only_dWf, inputs, cotangents)
    assert sorted(report.failed) == sorted(set(GRADIENTS) - {"dWf"})
    assert all(r.fault == "not returned" for r in report.rows if r.name != "dWf")
    # the output layer gets no cotangent: jax.vjp gives exactly 0, so leaving it out is right
    assert report.not_returned == ["dWy", "dby"]
    skipped = check_backward(jaxrnn.lstm_cell_forward, only_dWf, inputs, cotangents,
                             skip=[g for g in GRADIENTS if g != "dWf"])  # fmt: skip
    assert skipped.ok and [r.name for r in skipped.rows] == ["dWf"]
    assert "skipped at the caller's request" in str(skipped)


@pytest.mark.parametrize(
    "returned, fragment",
    [((1, 2), "returned tuple"), (None, "returned NoneType"), ([("dWf", 1)], "returned list")],
)
def test_a_backward_that_returns_no_dictionary_is_a_clear_error(returned, fragment):
    inputs, cotangents = lstm_cell_problem(np.float32)
    with pytest.raises(TypeError, match="must return a dictionary") as info:
        check_backward(jaxrnn.lstm_cell_forward, lambda *a: returned, inputs, cotangents)
    assert fragment in str(info.value)


def test_complex_gradients_fail():
    def complex_backward(*args):
        return {k: v + 0j for k, v in jaxrnn.lstm_cell_backward(*args).items()}

    inputs, cotangents = lstm_cell_problem(np.float32)
    report = check_backward(jaxrnn.lstm_cell_forward, complex_backward, inputs, cotangents)
    assert report.failed == GRADIENTS
    assert all("complex" in r.fault for r in report.rows)


def test_integer_inputs_are_constants():
    def forward(x, n):
        return x * n

    def backward(inputs, cotangents):
        return {"x": cotangents[0] * inputs["n"]}

    inputs = {"x": np.ones(3), "n": np.int32(2)}
    report = check_backward(forward, backward, inputs, np.ones(3), style="vjp")
    assert report.ok and [r.name for r in report.rows] == ["dx"]
    wrong = check_backward(forward, lambda i, c: backward(i, c) | {"n": 0.0}, inputs,
                           np.ones(3), style="vjp")  # fmt: skip
    assert wrong.failed == ["dn"] and "not differentiable" in wrong.rows[-1].fault


def test_inputs_are_matched_by_name_whatever_their_order():
    """n_x = n_a, inputs in another order than the forward's arguments: a positional call
    would have swapped xt and a_prev and failed a correct backward."""
    from jaxrnn.cells import RNN

    rng = np.random.default_rng(0)
    p = RNN.random_parameters(rng, 4, 4, 2, np.float64)
    inputs = {"a_prev": rng.standard_normal((4, 3)), "xt": rng.standard_normal((4, 3)),
              "parameters": p}  # fmt: skip
    with jax.enable_x64(True):
        report = check_backward(jaxrnn.rnn_cell_forward, jaxrnn.rnn_cell_backward, inputs,
                                rng.standard_normal((4, 3)))  # fmt: skip
    assert report.ok, f"\n{report}"
    with pytest.raises(TypeError, match=r"must be the forward's arguments"):
        check_backward(jaxrnn.rnn_cell_forward, jaxrnn.rnn_cell_backward,
                       {"x": inputs["xt"], **inputs}, rng.standard_normal((4, 3)))  # fmt: skip


def test_cotangents_of_the_wrong_shape_are_named():
    inputs, (da, dc) = lstm_cell_problem(np.float32)
    with pytest.raises(ValueError, match=r"`cotangents\[1\]` has shape \(4, 4\)"):
        check_backward(jaxrnn.lstm_cell_forward, jaxrnn.lstm_cell_backward, inputs,
                       (da, dc[:, :4]))  # fmt: skip


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_is_checked_against_float64(dtype):
    """In float16 and bfloat16 the manual and autodiff gradients are both measured against
    float64's answer: a correct backward passes, a gradient twice its size fails."""
    import jax.numpy as jnp

    dtype = jnp.dtype(dtype)
    inputs, cotangents = lstm_cell_problem(np.float32)
    inputs = {k: jax.tree.map(lambda v: np.asarray(v).astype(dtype), v) for k, v in inputs.items()}
    cotangents = tuple(np.asarray(c).astype(dtype) for c in cotangents)
    report = check_backward(jaxrnn.lstm_cell_forward, jaxrnn.lstm_cell_backward, inputs, cotangents)
    assert report.ok and report.dtype == dtype.name, f"\n{report}"
    cache = jaxrnn.lstm_cell_forward(*inputs.values())[-1]
    gradients = jaxrnn.lstm_cell_backward(*cotangents, cache)
    assert {np.dtype(v.dtype) for v in gradients.values()} == {dtype}  # dtype in = dtype out
    report = check_backward(jaxrnn.lstm_cell_forward, planted("dWi", size=1.0), inputs, cotangents)
    assert report.failed == ["dWi"], f"\n{report}"


def test_float32_cancellation_is_checked_against_float64():
    """A 1 x 1 dWaa summed over 4 examples that nearly cancel: float32 rounding puts the
    manual gradient 8.3e-4 from jax.vjp's with XLA's default options, 2.5e-3 with the suite's
    (2e-4 is float32's tolerance; the draw is one where both round so). It is measured against
    float64 and passes; 5% off, it fails."""
    xt, (a_prev,), parameters, (da,) = cell_inputs(
        RNN, np.random.default_rng(113), 5, 1, 3, 4, np.float32
    )
    inputs = {"xt": xt, "a_prev": a_prev, "parameters": parameters}

    def wrong(da_next, cache):
        gradients = jaxrnn.rnn_cell_backward(da_next, cache)
        return {**gradients, "dWaa": gradients["dWaa"] * 1.05}

    report = check_backward(jaxrnn.rnn_cell_forward, jaxrnn.rnn_cell_backward, inputs, da)
    assert report.ok, f"\n{report}"
    assert [row.name for row in report.rows if row.against_float64] == ["dWaa"]
    assert "measured against jax.vjp in float64" in str(report)
    report = check_backward(jaxrnn.rnn_cell_forward, wrong, inputs, da)
    assert report.failed == ["dWaa"], f"\n{report}"


@pytest.mark.parametrize("level", ["lengths", "reverse", "bidirectional"])
def test_a_problem_always_has_something_to_check(level):
    """One example: it has the full length, so a backward that doubles everything fails; a
    problem whose every reference gradient is zero is an error, not a pass."""
    from jaxrnn.problems import cell_problem

    forward, backward, inputs, cotangents = cell_problem("gru", level, np.float32,
                                                         sizes={"m": 1})  # fmt: skip
    assert list(inputs["lengths"]) == [6]

    def doubled(*arguments):
        return {k: 2 * v for k, v in backward(*arguments).items()}

    assert check_backward(forward, backward, inputs, cotangents).ok
    assert not check_backward(forward, doubled, inputs, cotangents).ok
    nothing = {**inputs, "lengths": np.zeros(1, int)}
    with pytest.raises(ValueError, match="jax.vjp gives exactly 0 for every gradient"):
        check_backward(forward, doubled, nothing, cotangents)


def test_inputs_go_by_position_where_the_names_are_the_forwards_own():
    import jax.numpy as jnp

    def backward(inputs, cotangents):
        return {"x": jnp.cos(inputs["x"]) * cotangents[0]}

    x, cotangent = np.linspace(-1, 1, 5, dtype=np.float32), np.ones(5, np.float32)
    assert check_backward(jnp.sin, backward, {"x": x}, cotangent, style="vjp").ok  # x is /
    with pytest.raises(TypeError, match="or take them in order"):
        check_backward(lambda xt, a_prev: xt * a_prev, backward,
                       {"a_prev": x, "h": x}, cotangent, style="vjp")  # fmt: skip


def test_a_zero_gradient_is_called_zero():
    from jaxrnn.problems import cell_problem

    with jax.enable_x64(True):
        forward, backward, inputs, cotangents = cell_problem("rnn", "cell")

        def zero_dwaa(da_next, cache):
            return backward(da_next, cache) | {"dWaa": np.zeros((5, 5))}

        report = check_backward(forward, zero_dwaa, inputs, cotangents, finite_differences=True)
    (row,) = [r for r in report.rows if r.name == "dWaa"]
    assert report.failed == ["dWaa"] and row.fault == "returned zero where the gradient is not"
    assert row["fd"] is None and report.unsettled == []  # no FD error scaled by 0


#: saturated problems, ``(cell, level, weights' scale, seed, dtype)``, on which the dtype's
#: tolerance alone called jaxrnn's own backward WRONG: gradients small against the others
#: (dWc, dWr of 1e-13 to 1e-38), or a backward rounding ``1 - a**2`` of saturated states
#: (the RNN at 300: dx 1.3e-8 of itself off jax.vjp in float64)
SATURATED = [
    ("lstm", "cell", 30.0, 1, "float64"),
    ("gru_reset_after", "sequence", 30.0, 2, "float64"),
    ("rnn", "sequence", 300.0, 0, "float64"),
    ("lstm", "cell", 30.0, 1, "float32"),
    ("gru", "cell", 300.0, 0, "float32"),
]


def saturated(name, level, scale, seed, dtype):
    return saturated_problem(CELLS[name], level, dtype, scale, seed)


def check_saturated(case, backward=None):
    forward, own, inputs, cotangents = saturated(*case)
    dtype = case[-1]
    with jax.enable_x64(dtype == "float64"):
        return check_backward(forward, backward or own, inputs, cotangents,
                              finite_differences=dtype == "float64")  # fmt: skip


@pytest.mark.parametrize("case", SATURATED, ids=["-".join(map(str, c)) for c in SATURATED])
def test_saturated_gates_never_make_a_correct_backward_wrong(case):
    """Rounding is not a wrong derivative: each gradient agrees (to its measured rounding
    noise) or is undecided, too small against the problem's others to be checked."""
    report = check_saturated(case)
    assert report.failed == [], f"\n{report}"
    assert all(row.ok or row.undecided for row in report.rows), f"\n{report}"
    assert "WRONG" not in report.table()
    for row in report.rows:
        if row.undecided:  # within the rounding of the largest gradient, not its own
            assert row["vjp"].error <= row["vjp"].floor and not row.ok


def test_a_saturated_problem_still_fails_a_wrong_backward():
    """Saturation widens nothing for the gradients it leaves large: one 1e-3 off is WRONG.
    A gradient too small to check (the LSTM's dWc, 1.1e-13 against dxt's 3, its rounding
    floor 5e-14) is WRONG twice its size off, and undecided 10% off: never agreeing."""
    case = SATURATED[0]
    report = check_saturated(case, planted("da_prev", 1e-3))
    assert report.failed == ["da_prev"] and not report.ok, f"\n{report}"
    doubled = check_saturated(case, planted("dWc", 1.0))
    assert doubled.failed == ["dWc"], f"\n{doubled}"
    small = check_saturated(case, planted("dWc", 0.1))
    assert "dWc" in small.undecided and not small.ok and small.failed == [], f"\n{small}"
    assert small.verdict().startswith("none wrong, but not all checked")


def test_a_backward_that_changes_from_call_to_call_gets_no_rounding_allowance():
    """Where a saturated backward's rounding noise is allowed (the RNN at 300), a backward
    adding random numbers moves as much when called again on the same cache: WRONG."""
    rng = np.random.default_rng()
    _, backward, _, _ = saturated(*SATURATED[2])

    def noisy(da, caches):
        g = dict(backward(da, caches))
        return g | {"dx": g["dx"] * (1 + 0.3 * rng.standard_normal(np.shape(g["dx"])))}

    report = check_saturated(SATURATED[2], noisy)
    (row,) = [r for r in report.rows if r.name == "dx"]
    assert report.failed == ["dx"] and row["vjp"].detail["noise"] == 0.0, f"\n{report}"


def test_rounding_noise_is_eps_sized_where_nothing_saturates():
    """The noise allowance adds nothing to an ordinary problem: what moving the cache by eps
    moves jaxrnn's backward by is within 100 eps of each gradient, far below AGREEMENT."""
    from jaxrnn.gradcheck import _opinions as opinions
    from jaxrnn.gradcheck._subject import checked_subject
    from jaxrnn.problems import cell_problem

    with jax.enable_x64(True):
        forward, backward, inputs, cotangents = cell_problem("lstm", "sequence")
        problem = checked_subject(forward, backward, inputs, cotangents, "documents")
        manual = problem.manual()
        noise = opinions.rounding_noise(problem, manual, seed=0)
    assert set(noise) == set(manual)
    eps = np.finfo(np.float64).eps
    for name, moved in noise.items():
        size = float(np.max(np.abs(manual[name])))
        assert 0 < np.max(moved) <= 100 * eps * size, name


@pytest.mark.parametrize(
    ("size", "moving", "verdict"),
    [(1e-25, False, "undecided"), (1e-25, True, "undecided"), (1e-6, False, "failed")],
)
def test_a_gradient_jax_vjp_gives_as_exactly_zero_is_judged_at_the_rounding_floor(
    size, moving, verdict
):
    """dby, exactly 0 by jax.vjp when only the state has a cotangent: a backward's residue far
    below the problem's rounding floor is undecided, also where it moves with the cache's last
    bits (its noise then infinite against a zero gradient, shown so); one of 1e-6 is WRONG."""
    from jaxrnn.problems import cell_problem

    with jax.enable_x64(True):
        forward, backward, inputs, cotangents = cell_problem("rnn", "cell")

        def residue(da_next, cache):
            a_next = np.asarray(cache[0])
            bits = np.modf(a_next[0, 0] * 1e15)[0] if moving else 1.0  # moves with eps of a
            return backward(da_next, cache) | {"dby": size * bits * np.ones((2, 1))}

        report = check_backward(forward, residue, inputs, cotangents)
    (row,) = [r for r in report.rows if r.name == "dby"]
    assert report.failed == (["dby"] if verdict == "failed" else []), f"\n{report}"
    assert (report.undecided == ["dby"]) == (verdict == "undecided") and not report.ok
    assert (row["vjp"].detail["noise"] > 0) == moving
    line = next(line for line in report.table().splitlines() if line.startswith("dby"))
    tolerance = re.split(r"\s{2,}", line)[4]  # the tolerance column, the noise counted
    assert (tolerance == "inf") == moving, line


def test_finite_differences_losses_and_magnitude_are_the_forwards_own():
    """The finite differences' one program per problem gives, per point, the loss
    ``sum <u, forward>`` with the leaf replaced, and the magnitude ``sum |u| |forward|`` at
    the problem's own inputs (carried as the last point): each as the forward gives it called
    directly, and as the untraced path gives it."""
    import dataclasses

    from jaxrnn.gradcheck._finite import _losses
    from jaxrnn.gradcheck._subject import checked_subject
    from jaxrnn.problems import cell_problem

    with jax.enable_x64(True):
        forward, backward, inputs, cotangents = cell_problem("lstm", "sequence")
        problem = checked_subject(forward, backward, inputs, cotangents, "documents")
        leaf = np.asarray(problem.leaf("dWf"))
        leaves = leaf[None] + np.linspace(-0.5, 0.5, 4)[:, None, None]
        got, magnitude = _losses(problem)("dWf", leaves)

        def direct(values):
            outs = problem.call(*values)
            pairs = list(zip(problem.cotangents, outs, strict=False))
            loss = sum(float(np.vdot(np.asarray(u), np.asarray(o))) for u, o in pairs)
            size = sum(float(np.vdot(np.abs(u), np.abs(np.asarray(o)))) for u, o in pairs)
            return loss, size

        want = [direct(tuple(problem.with_leaf("dWf", v).values()))[0] for v in leaves]
        want_magnitude = direct(problem.values)[1]
        untraced = dataclasses.replace(problem, traced=False)
        numpy_got, numpy_magnitude = _losses(untraced)("dWf", leaves)
    assert got.shape == (4,) and np.allclose(got, want, rtol=1e-12, atol=0)
    assert np.isclose(magnitude, want_magnitude, rtol=1e-12, atol=0)
    assert np.allclose(numpy_got, want, rtol=1e-12) and np.isclose(numpy_magnitude, magnitude)
    assert not np.allclose(got[0], got[-1])  # the points differ: not one loss four times
