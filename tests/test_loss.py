"""The complete hand-derived gradient of the cross-entropy agrees with jax.grad(J)."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxrnn import loss
from jaxrnn.cells import CELLS
from jaxrnn.gradcheck import check_backward
from jaxrnn.gradcheck.tolerances import AGREEMENT, scaled_error

TOL = AGREEMENT[np.dtype("float64")]


def problem(cell, seed, n_x, n_a, n_y, m, T_x):
    rng = np.random.default_rng(seed)
    parameters = cell.random_parameters(rng, n_x, n_a, n_y, np.float64)
    x = rng.standard_normal((n_x, m, T_x))
    a0 = rng.standard_normal((n_a, m))
    labels = rng.integers(0, n_y, (m, T_x))
    return x, a0, parameters, labels


def autodiff_gradients(cell, x, a0, parameters, labels):
    grad = jax.grad(loss.cross_entropy, argnums=(1, 2, 3))
    dx, da0, dparams = grad(cell.name, x, a0, parameters, labels)
    return {"dx": dx, "da0": da0, **{f"d{k}": v for k, v in dparams.items()}}


sizes = st.tuples(
    st.integers(0, 2**31 - 1), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4),
    st.integers(1, 4), st.integers(1, 7),
)  # fmt: skip


@settings(max_examples=5)
@given(sizes=sizes)
def test_full_loss_gradient_matches_jax_grad(cell, sizes):
    with jax.enable_x64(True):
        x, a0, parameters, labels = problem(cell, *sizes)
        J, manual = loss.loss_and_gradients(cell, x, a0, parameters, labels)
        reference = autodiff_gradients(cell, x, a0, parameters, labels)
        assert abs(float(J) - float(loss.cross_entropy(cell, x, a0, parameters, labels))) < 1e-12
    # every parameter, x and a0: nothing is left out
    assert sorted(manual) == sorted(reference)
    for key in reference:
        assert scaled_error(manual[key], reference[key], TOL) <= 1, key


def test_full_loss_gradient_matches_finite_differences(cell):
    x, a0, parameters, labels = problem(cell, 7, 3, 4, 3, 2, 5)

    def forward(x, a0, parameters):
        return loss.cross_entropy(cell, x, a0, parameters, labels)

    def backward(inputs, cotangents):  # a plain VJP of J, from the manual gradients
        _, g = loss.loss_and_gradients(cell, *inputs.values(), labels)
        scale = cotangents[0]
        params = {k: scale * g[f"d{k}"] for k in inputs["parameters"]}
        return {"x": scale * g["dx"], "a0": scale * g["da0"], "parameters": params}

    with jax.enable_x64(True):
        inputs = {"x": x, "a0": a0, "parameters": parameters}
        report = check_backward(forward, backward, inputs, np.float64(1.0), style="vjp",
                                finite_differences=True)  # fmt: skip
    assert report.ok, f"\n{report}"
    assert not report.not_returned


def test_one_hot_and_integer_labels_agree():
    cell = CELLS["lstm"]
    x, a0, parameters, labels = problem(cell, 3, 2, 3, 4, 2, 3)
    one_hot = np.moveaxis(np.eye(4)[labels], -1, 0)
    with jax.enable_x64(True):
        J1, g1 = loss.loss_and_gradients("lstm", x, a0, parameters, labels)
        J2, g2 = loss.loss_and_gradients("lstm", x, a0, parameters, one_hot)
    assert float(J1) == pytest.approx(float(J2), rel=1e-14)
    for key in g1:
        np.testing.assert_allclose(g1[key], g2[key], rtol=1e-13, atol=1e-15)


def test_loss_is_finite_when_a_prediction_underflows():
    cell = CELLS["rnn"]
    x, a0, parameters, labels = problem(cell, 3, 2, 3, 4, 2, 3)
    parameters["by"] = np.array([[-1e4], [0.0], [0.0], [0.0]])  # class 0 has probability 0
    with jax.enable_x64(True):
        J, g = loss.loss_and_gradients("rnn", x, a0, parameters, np.zeros((2, 3), int))
    assert np.isfinite(float(J)) and float(J) > 1e4
    assert all(np.all(np.isfinite(v)) for v in g.values())


@pytest.mark.parametrize(
    "labels, fragment",
    [
        (np.zeros((3, 3), int), "(m, T_x) = (2, 3)"),
        (np.full((2, 3), 4), "[0, n_y) = [0, 4)"),
        (np.zeros((4, 2, 2)), "(n_y, m, T_x) = (4, 2, 3)"),
    ],
)
def test_bad_labels_are_named(labels, fragment):
    x, a0, parameters, _ = problem(CELLS["gru"], 3, 2, 3, 4, 2, 3)
    with pytest.raises(ValueError, match="`labels`") as info:
        loss.loss_and_gradients("gru", x, a0, parameters, labels)
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [2, -1])
def test_labels_out_of_range_under_jit_give_nan_not_a_loss(bad):
    """Under jit the labels have no values to check: a label outside [0, n_y) makes J and every
    gradient it reaches NaN (a zero row of one_hot gave a plausible J = -0.0 before)."""
    cell = CELLS["rnn"]
    x, a0, parameters, labels = problem(cell, 3, 2, 3, 2, 2, 4)
    labels[1, 2] = bad
    J = jax.jit(lambda labels: loss.cross_entropy("rnn", x, a0, parameters, labels))(labels)
    J2, g = jax.jit(lambda labels: loss.loss_and_gradients("rnn", x, a0, parameters, labels))(
        labels
    )
    assert np.isnan(float(J)) and np.isnan(float(J2))
    assert np.isnan(np.asarray(g["dWya"])).any() and np.isnan(np.asarray(g["dx"])).any()
    with pytest.raises(ValueError, match=r"\[0, n_y\) = \[0, 2\)"):
        loss.cross_entropy("rnn", x, a0, parameters, labels)  # eagerly: an error


def test_one_hot_labels_must_be_distributions():
    """(L4) is (y_pred - Y) / m only when every column of Y sums to 1."""
    x, a0, parameters, labels = problem(CELLS["lstm"], 3, 2, 3, 4, 2, 3)
    one_hot = np.moveaxis(np.eye(4)[labels], -1, 0)
    one_hot[:, 1, 2] *= 2
    with pytest.raises(ValueError, match=r"labels\[:, 1, 2\] = \[.*\] does not"):
        loss.loss_and_gradients("lstm", x, a0, parameters, one_hot)
    with jax.enable_x64(True):
        J = jax.jit(lambda Y: loss.cross_entropy("lstm", x, a0, parameters, Y))(one_hot)
    assert np.isnan(float(J))


def test_an_unknown_cell_lists_the_known_ones():
    x, a0, parameters, labels = problem(CELLS["lstm"], 3, 2, 3, 4, 2, 3)
    with pytest.raises(ValueError, match=r"unknown cell 'lsmt'; the known cells are \['gru'"):
        loss.loss_and_gradients("lsmt", x, a0, parameters, labels)
