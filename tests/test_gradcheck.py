"""The gradient checker catches a wrong backward and names the wrong gradient."""

import dataclasses

import jax
import numpy as np
import pytest
from helpers import cell_inputs

import jaxrnn
from jaxrnn import lstm
from jaxrnn.cells import LSTM
from jaxrnn.gradcheck import check_backward

GRADIENTS = ["dxt", "da_prev", "dc_prev", *(f"d{k}" for k in lstm.GRADIENT_KEYS)]


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
    """The README's example: dc_prev without ft in its second term."""

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
        params = {k: g[f"d{k}"] for k in lstm.GRADIENT_KEYS}
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
    problems = {row.name: row.problem for row in report.rows if not row.ok}
    assert "shape (4, 6), expected (4, 7)" in problems["dWf"]
    assert "no input named 'Wz'" in problems["dWz"]


def test_sequence_backward_checked_through_the_registry():
    cell = dataclasses.replace(LSTM)
    rng = np.random.default_rng(1)
    p = cell.random_parameters(rng, 2, 3, 2)
    x, a0, da = (
        rng.standard_normal((2, 4, 5)),
        rng.standard_normal((3, 4)),
        rng.standard_normal((3, 4, 5)),
    )
    with jax.enable_x64(True):
        report = check_backward(
            cell.forward, cell.backward, {"x": x, "a0": a0, "parameters": p}, da
        )
    assert report.ok and report.dtype == "float64"


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
    assert (da0.fd_rel_error > da0.fd_tolerance) == (error > 0.0), f"\n{report}"
