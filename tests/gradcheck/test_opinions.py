"""The checker's further opinions, each failing a planted error it alone can see and passing a
correct backward: forward mode, where, second order, vmap, the caller's tolerances, NumPy
forwards and backwards."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxrnn
from jaxrnn import custom_vjp
from jaxrnn.cells import CELLS
from jaxrnn.course import reference as ref
from jaxrnn.gradcheck import check_backward, tolerances
from jaxrnn.problems import cell_problem, gradient_dims
from jaxrnn.testing import assert_backward_agrees, assert_cell_agrees


@pytest.fixture
def lstm_sequence():
    with jax.enable_x64(True):
        yield cell_problem("lstm", "sequence")


def scaled(backward, name, factor):
    def wrong(*arguments):
        gradients = dict(backward(*arguments))
        return gradients | {name: gradients[name] * factor}

    return wrong


def test_forward_mode_is_an_opinion_of_its_own_under_the_callers_tolerance(lstm_sequence):
    """dWf 1% off: forward mode, which uses no reverse mode, says so beside jax.vjp; under a
    tolerance the caller loosened to let it by, every opinion lets it by, not jax.vjp's
    column alone (forward mode once kept its own 1e-10 there)."""
    forward, backward, inputs, cotangents = lstm_sequence
    report = check_backward(forward, backward, inputs, cotangents)
    assert report.ok and all(r["adjoint"] is not None and r["adjoint"].ok for r in report.rows)
    wrong = scaled(backward, "dWf", 1.01)
    strict = check_backward(forward, wrong, inputs, cotangents, finite_differences=True)
    assert strict.failed == ["dWf"] and "FAIL (jax.vjp, finite differences, jax.jvp)" in str(
        strict
    )  # fmt: skip
    loose = check_backward(forward, wrong, inputs, cotangents, rtol=0.05, finite_differences=True)
    assert loose.ok, f"\n{loose}"
    (row,) = [r for r in loose.rows if r.name == "dWf"]
    assert row["adjoint"].tolerance >= 0.05 and row["fd"].tolerance >= 0.05
    assert "tolerances yours: rtol 0.05, atol 0" in str(loose) and "tol (yours)" in str(loose)
    tight = check_backward(forward, scaled(backward, "dWf", 1 + 1e-7), inputs, cotangents,
                           rtol=1e-5, finite_differences=True, order=2)  # fmt: skip
    assert tight.ok, f"\n{tight}"


def test_forward_mode_of_a_custom_vjp_is_said_to_be_impossible(rng):
    x, a0 = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 4))
    parameters = CELLS["gru"].random_parameters(rng, 3, 5, 2, np.float64)
    with jax.enable_x64(True):
        report = check_backward(
            lambda x, a0, parameters: custom_vjp.gru(x, a0, parameters)[0],
            lambda inputs, cots: dict(zip(inputs, jax.vjp(
                lambda *v: custom_vjp.gru(*v)[0], *inputs.values())[1](cots[0]), strict=True)),
            {"x": x, "a0": a0, "parameters": parameters}, rng.standard_normal((5, 4, 5)),
            style="vjp",
        )  # fmt: skip
    assert report.ok and all(r["adjoint"] is None for r in report.rows)
    assert report.not_applicable == {
        "forward mode": "the forward is a jax.custom_vjp, which forward mode cannot differentiate"
    }
    assert "forward mode: the forward is a jax.custom_vjp" in str(report)


def test_an_error_at_one_time_step_is_found_at_that_step(lstm_sequence):
    forward, backward, inputs, cotangents = lstm_sequence

    def step_3_off(*arguments):
        gradients = dict(backward(*arguments))
        dx = np.array(gradients["dx"])
        dx[1, 2, 3] += 0.1
        return gradients | {"dx": dx}

    report = check_backward(
        forward, step_3_off, inputs, cotangents, dims=gradient_dims("lstm", "sequence")
    )
    (row,) = [r for r in report.rows if r.name == "dx"]
    assert report.failed == ["dx"] and row.where.steps == (3, 3)
    assert row.where.index == (1, 2, 3) and row.where.meaning == "input row 1, example 2, step 3"
    assert "at [1, 2, 3] (input row 1, example 2, step 3), step 3" in str(report)
    dwf = check_backward(forward, scaled(backward, "dWf", 1.1), inputs, cotangents,
                         dims=gradient_dims("lstm", "sequence"))  # fmt: skip
    (row,) = dwf.rows[2:3]
    assert row.name == "dWf" and row.where.meaning.startswith("row ")
    assert (", on a_prev[" in row.where.meaning) == (row.where.index[1] < 5)


@pytest.mark.parametrize("checkpoint", [None, 2])
@pytest.mark.parametrize("name", list(CELLS))
def test_second_order_through_custom_vjp_is_right_for_every_cell(name, checkpoint):
    """jax.grad of jax.grad through custom_vjp.of(cell) runs the manual backward's own
    derivative: it equals the plain forward's, with and without checkpointing."""
    cell = CELLS[name]
    fn = custom_vjp.of(cell)

    def by_custom_vjp(inputs, cotangents):
        states = lambda *v: fn(*v, checkpoint=checkpoint)[0]  # noqa: E731
        _, pull = jax.vjp(states, *inputs.values())
        return dict(zip(inputs, pull(cotangents[0]), strict=True))

    with jax.enable_x64(True):
        _, _, inputs, cotangents = cell_problem(cell, "sequence")
        report = check_backward(cell.forward, by_custom_vjp, inputs, cotangents, style="vjp",
                                order=2, adjoint=False)  # fmt: skip
    assert report.ok, f"\n{report}"
    assert all(r["second_order"] is not None and r["second_order"].ok for r in report.rows)


def test_a_second_derivative_wrong_while_the_first_is_right():
    """A custom_vjp of sin whose backward holds x with stop_gradient: cos(x) g, right; its
    derivative, zero instead of -sin(x) g, wrong."""

    @jax.custom_vjp
    def held_sin(x):
        return jnp.sin(x)

    held_sin.defvjp(lambda x: (jnp.sin(x), x),
                    lambda x, g: (jnp.cos(jax.lax.stop_gradient(x)) * g,))  # fmt: skip

    def backward(inputs, cotangents):
        return {"x": jax.vjp(held_sin, inputs["x"])[1](cotangents[0])[0]}

    with jax.enable_x64(True):
        x, u = np.linspace(-1, 1, 5), np.ones(5)
        first = check_backward(jnp.sin, backward, {"x": x}, u, style="vjp")
        second = check_backward(jnp.sin, backward, {"x": x}, u, style="vjp", order=2)
    assert first.ok
    assert second.failed == ["dx"] and not second.rows[0]["second_order"].ok
    assert "FAIL (second order)" in str(second)


def host_dba(dtanh):
    m = dtanh.size // dtanh.shape[0]  # the examples, for an (n_a, m) array
    return (dtanh.mean(axis=-1, keepdims=True) * m).astype(dtanh.dtype)


def through_the_host(da_next, cache):
    """rnn_cell_backward with dba summed on the host: right on one cotangent, wrong under
    vmap, where the host gets a batch axis first and counts it as rows."""
    gradients = jaxrnn.rnn_cell_backward(da_next, cache)
    dtanh = da_next * (1 - cache[0] ** 2)
    shape = jax.ShapeDtypeStruct(gradients["dba"].shape, gradients["dba"].dtype)
    dba = jax.pure_callback(host_dba, shape, dtanh, vmap_method="expand_dims")
    return gradients | {"dba": dba}


def test_a_backward_right_once_but_wrong_under_vmap():
    with jax.enable_x64(True):
        forward, backward, inputs, cotangents = cell_problem("rnn", "cell")
        once = check_backward(forward, through_the_host, inputs, cotangents)
        mapped = check_backward(forward, through_the_host, inputs, cotangents,
                                check_batched=True)  # fmt: skip
        right = check_backward(forward, backward, inputs, cotangents, check_batched=True)
    assert once.ok and right.ok
    assert mapped.failed == ["dba"] and "FAIL (vmap)" in str(mapped)
    assert all(r["batched"] is not None for r in right.rows)


def test_a_backward_writing_into_numpy_arrays_cannot_be_mapped_and_says_so():
    def in_place(da_next, cache):
        gradients = ref.rnn_cell_backward(da_next, cache)
        dba = np.zeros(np.shape(gradients["dba"]))
        dba[:] = gradients["dba"]  # a traced value has none to write
        return gradients | {"dba": dba}

    with jax.enable_x64(True):
        forward, _, inputs, cotangents = cell_problem("rnn", "cell")
        assert check_backward(forward, in_place, inputs, cotangents).ok
        report = check_backward(forward, in_place, inputs, cotangents, check_batched=True)
    assert not report.ok
    assert report.rows[0]["batched"].fault == "fails under jax.vmap (TracerArrayConversionError)"


def test_the_callers_tolerances_decide_and_are_printed(lstm_sequence):
    forward, backward, inputs, cotangents = lstm_sequence
    off = scaled(backward, "dbf", 1 + 1e-6)
    assert not check_backward(forward, off, inputs, cotangents, adjoint=False).ok
    report = check_backward(forward, off, inputs, cotangents, adjoint=False, rtol=1e-5)
    assert report.ok and report.tolerances == (1e-5, 0.0) and "tol (yours)" in str(report)
    assert check_backward(forward, off, inputs, cotangents, adjoint=False, rtol=0.0,
                          atol=1e-3).ok  # fmt: skip
    for bad in (-1, float("inf"), float("nan"), True, "1e-5", np.ones(2)):
        with pytest.raises(ValueError, match="`rtol` must be a finite real number >= 0"):
            check_backward(forward, backward, inputs, cotangents, rtol=bad)
    # NumPy's and JAX's scalars are numbers; skip=None skips nothing
    report = check_backward(forward, off, inputs, cotangents, adjoint=False,
                            rtol=np.float32(1e-5), atol=jnp.float32(1e-9), skip=None)  # fmt: skip
    assert report.ok and report.skipped == [] and report.tolerances[0] == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="`order` must be 1 or 2"):
        check_backward(forward, backward, inputs, cotangents, order=3)


def test_numpy_forwards_and_backwards_run_untraced_judged_by_finite_differences():
    """A learner's np.dot code, forward and backward: finite differences of the NumPy forward
    are the opinion; one entry off by 1e-3 of its gradient's scale is caught."""
    with jax.enable_x64(True):
        _, _, inputs, cotangents = cell_problem("rnn", "cell")
        report = check_backward(ref.rnn_cell_forward, ref.rnn_cell_backward, inputs, cotangents)

        def one_entry_off(da_next, cache):
            gradients = ref.rnn_cell_backward(da_next, cache)
            gradients["dWaa"] = gradients["dWaa"].copy()
            gradients["dWaa"][1, 2] += 1e-3 * np.max(np.abs(gradients["dWaa"]))
            return gradients

        wrong = check_backward(ref.rnn_cell_forward, one_entry_off, inputs, cotangents)
    assert report.ok, f"\n{report}"
    assert all(not r.vjp and r["fd"].settled for r in report.rows)
    assert report.not_returned == ["dWya", "dby"]  # 0 by finite differences
    assert "forward mode: the forward is NumPy code" in str(report)
    assert wrong.failed == ["dWaa"] and "FAIL (finite differences)" in str(wrong)


def test_any_forward_by_position():
    """Positional-only and *args forwards take the inputs in order."""

    def star(*values):
        x, w = values
        return jnp.tanh(w * x)

    def backward(inputs, cotangents):
        x, w = inputs["x"], inputs["w"]
        d = cotangents[0] * (1 - jnp.tanh(w * x) ** 2)
        return {"x": d * w, "w": d * x}

    x, w, u = np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4), np.ones(4)
    with jax.enable_x64(True):
        assert check_backward(star, backward, {"x": x, "w": w}, u, style="vjp").ok
        assert check_backward(jnp.sin, lambda i, c: {"x": jnp.cos(i["x"]) * c[0]}, {"x": x}, u,
                              style="vjp").ok  # fmt: skip


def test_jaxrnn_testing_takes_the_same_options_and_shows_the_same_columns():
    reports = assert_cell_agrees("gru", levels=("cell",), order=2, check_batched=True)
    row = reports[0].rows[0]
    assert (
        row["adjoint"] is not None
        and row["batched"] is not None
        and row["second_order"] is not None
    )
    with pytest.raises(AssertionError, match="2nd-order err"):
        forward, backward, inputs, cotangents = cell_problem("gru", "cell")
        assert_backward_agrees(forward, scaled(backward, "dbu", 2.0), inputs, cotangents,
                               order=2)  # fmt: skip


def _transposed_dwaa(da_next, cache):
    """eq. (5) transposed: dWaa = a_prev @ dz.T, 127% off at n_a = m = 3."""
    gradients = ref.rnn_cell_backward(da_next, cache)
    a_next, a_prev, xt, p = cache
    dz = da_next * (1 - a_next**2)
    return gradients | {"dWaa": a_prev @ dz.T}


def _in_place(da_next, cache):
    """A right NumPy backward that writes into its cotangent."""
    a_next, a_prev, xt, p = cache
    da_next *= 1 - a_next**2
    return {"dxt": p["Wax"].T @ da_next, "da_prev": p["Waa"].T @ da_next,
            "dWax": da_next @ xt.T, "dWaa": da_next @ a_prev.T,
            "dba": da_next.sum(axis=1, keepdims=True)}  # fmt: skip


def test_finite_differences_alone_cannot_pass_a_wrong_gradient_by_chance():
    """A NumPy forward, judged by finite differences alone: dWaa transposed, which one sign
    vector missed, fails; a 3 x 3 gradient is checked entry by entry, a larger one along
    Gaussian directions too."""
    from jaxrnn.gradcheck._finite import directions

    with jax.enable_x64(True):
        _, _, inputs, cotangents = cell_problem("rnn", "cell", sizes={"n_a": 3, "m": 3})
        wrong = check_backward(ref.rnn_cell_forward, _transposed_dwaa, inputs, cotangents)
    assert wrong.failed == ["dWaa"], f"\n{wrong}"
    rng = np.random.default_rng(0)
    assert np.array_equal(directions((3, 3), rng, traced=False), np.eye(9).reshape(9, 3, 3))
    many = directions((9, 8), rng, traced=False)
    assert many.shape == (1 + tolerances.GAUSSIAN_DIRECTIONS, 9, 8)
    assert set(np.unique(many[0])) == {-1.0, 1.0} and len(np.unique(many[1:])) > 100
    assert directions((9, 8), rng, traced=True).shape == (1, 9, 8)


@pytest.mark.parametrize("forward", ["numpy", "jax"])
def test_a_backward_writing_into_its_cotangent_gets_a_copy_each_call(forward):
    with jax.enable_x64(True):
        jax_forward, _, inputs, cotangents = cell_problem("rnn", "cell")
        given = np.array(cotangents[0])
        f = ref.rnn_cell_forward if forward == "numpy" else jax_forward
        report = check_backward(f, _in_place, inputs, (given,), finite_differences=True)
    assert report.ok, f"\n{report}"
    assert np.array_equal(given, cotangents[0])  # the caller's cotangent is not written
    report = check_backward(ref.rnn_cell_forward, _in_place, inputs, cotangents)  # float32
    assert report.ok, f"\n{report}"


def test_nested_inputs_check_every_leaf_under_its_whole_name():
    """Two layers whose parameters share their keys: each leaf is its own row, named by its
    path; layer1's gradient 3 times off fails, in either mode."""

    def forward(x, layer1, layer2):
        h = jnp.tanh(layer1["W"] @ x + layer1["b"])
        return layer2["W"] @ h + layer2["b"]

    def backward(inputs, cotangents):
        _, pullback = jax.vjp(forward, inputs["x"], inputs["layer1"], inputs["layer2"])
        dx, d1, d2 = pullback(cotangents[0])
        return {"x": dx, "layer1": {"W": 3 * d1["W"], "b": d1["b"]}, "layer2": d2}

    rng = np.random.default_rng(0)
    draw = lambda *shape: rng.standard_normal(shape)  # noqa: E731
    inputs = {"x": draw(3, 4), "layer1": {"W": draw(5, 3), "b": draw(5, 1)},
              "layer2": {"W": draw(2, 5), "b": draw(2, 1)}}  # fmt: skip
    with jax.enable_x64(True):
        for adjoint in (False, True):
            report = check_backward(forward, backward, inputs, draw(2, 4), style="vjp",
                                    adjoint=adjoint)  # fmt: skip
            names = [r.name for r in report.rows]
            assert names == ["dx", "dlayer1.W", "dlayer1.b", "dlayer2.W", "dlayer2.b"]
            assert report.failed == ["dlayer1.W"], f"\n{report}"


def test_dims_are_refused_up_front_when_they_do_not_fit(lstm_sequence):
    forward, backward, inputs, cotangents = lstm_sequence
    for dims, error, match in (
        ({"dx": "n_x m"}, ValueError, "2 symbols, for a gradient of rank 3"),
        ({"dx": 3}, TypeError, "must be a string of symbols"),
        ({"dxx": "n_x m T_x"}, ValueError, "names 'dxx', which is no gradient"),
        (["dx"], TypeError, "must be a dictionary"),
    ):  # fmt: skip
        with pytest.raises(error, match=match):
            check_backward(forward, backward, inputs, cotangents, dims=dims, adjoint=False)


def test_rounding_the_vjp_column_allows_is_allowed_under_vmap():
    """float32, a caller's rtol of 1e-12: jax.vjp's column allows the backward's measured
    rounding; vmap against a loop differs by rounding too, and is allowed the same."""
    sizes = {"n_a": 16, "m": 8, "T_x": 20}  # where the two round differently
    problem = cell_problem("lstm", "sequence", np.float32, sizes=sizes)
    report = check_backward(*problem, rtol=1e-12, check_batched=True, adjoint=False)
    assert report.ok, f"\n{report}"
    assert all(r["batched"] is not None and r["batched"].ok for r in report.rows)


def test_a_numpy_cell_backward_is_checked_untraced_or_refused_where_it_cannot_be():
    reports = assert_cell_agrees("lstm", cell_backward=ref.lstm_cell_backward)
    assert [r.ok for r in reports] == [True, True]

    def wrong(da_next, dc_next, cache):
        gradients = ref.lstm_cell_backward(da_next, dc_next, cache)
        return gradients | {"dbf": 2 * gradients["dbf"]}

    with pytest.raises(
        AssertionError, match="lstm_backward over your lstm_cell_backward disagrees"
    ):
        assert_cell_agrees("lstm", cell_backward=wrong, levels=("sequence",))
    with pytest.raises(TypeError, match="cannot trace"):
        assert_cell_agrees("lstm", cell_backward=ref.lstm_cell_backward, levels=("lengths",))
