"""The checker's further opinions, each failing a planted error it alone can see and passing a
correct backward: forward mode, where, second order, vmap, the caller's tolerances, NumPy
forwards and backwards."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxrnn
from jaxrnn import custom_vjp
from jaxrnn import numpy_reference as ref
from jaxrnn.cells import CELLS
from jaxrnn.gradcheck import check_backward
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


def test_forward_mode_is_an_opinion_of_its_own(lstm_sequence):
    """dWf 1% off, under a tolerance the caller loosened so that jax.vjp's column lets it by:
    the dot-product test, in float64 at its own tolerance, does not."""
    forward, backward, inputs, cotangents = lstm_sequence
    report = check_backward(forward, backward, inputs, cotangents)
    assert report.ok and all(r.adjoint is not None and r.adjoint.ok for r in report.rows)
    loose = check_backward(forward, scaled(backward, "dWf", 1.01), inputs, cotangents, rtol=0.05)
    assert loose.failed == ["dWf"], f"\n{loose}"
    (row,) = [r for r in loose.rows if r.name == "dWf"]
    assert row.rel_error <= 0.05 and not row.adjoint.ok  # jax.vjp's column lets it by
    assert "FAIL (jax.jvp)" in str(loose) and "tol (yours)" in str(loose)
    assert "tolerances yours: rtol 0.05, atol 0" in str(loose)


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
    assert report.ok and all(r.adjoint is None for r in report.rows)
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
    assert all(r.second_order is not None and r.second_order.ok for r in report.rows)


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
    assert second.failed == ["dx"] and not second.rows[0].second_order.ok
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
    assert all(r.batched is not None for r in right.rows)


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
    assert report.rows[0].batched.problem == "fails under jax.vmap (TracerArrayConversionError)"


def test_the_callers_tolerances_decide_and_are_printed(lstm_sequence):
    forward, backward, inputs, cotangents = lstm_sequence
    off = scaled(backward, "dbf", 1 + 1e-6)
    assert not check_backward(forward, off, inputs, cotangents, adjoint=False).ok
    report = check_backward(forward, off, inputs, cotangents, adjoint=False, rtol=1e-5)
    assert report.ok and report.tolerances == (1e-5, 0.0) and "tol (yours)" in str(report)
    assert check_backward(forward, off, inputs, cotangents, adjoint=False, rtol=0.0,
                          atol=1e-3).ok  # fmt: skip
    with pytest.raises(ValueError, match="`rtol` must be a number >= 0"):
        check_backward(forward, backward, inputs, cotangents, rtol=-1)
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
    assert all(not r.vjp and r.fd_settled for r in report.rows)
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
    assert row.adjoint is not None and row.batched is not None and row.second_order is not None
    with pytest.raises(AssertionError, match="2nd-order err"):
        forward, backward, inputs, cotangents = cell_problem("gru", "cell")
        assert_backward_agrees(forward, scaled(backward, "dbu", 2.0), inputs, cotangents,
                               order=2)  # fmt: skip
