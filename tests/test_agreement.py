"""Hand-derived backward passes agree with JAX's autodiff, on every backend JAX finds.

The agreement test runs as chex variants (with and without jax.jit, with the inputs put on the
device and taken off it as NumPy arrays) over cell x level (cell / sequence) x dtype x device,
over shapes drawn by hypothesis (every dimension from 1, one time step, one example, ``da``
covering fewer steps than ``x``); then saturated pre-activations, jax.grad of the hidden
states' loss and finite differences. Tolerances: jaxrnn/gradcheck/tolerances.py, compared by
jaxrnn.testing.assert_gradients_close (chex).
"""

from __future__ import annotations

import contextlib

import chex
import jax
import numpy as np
import pytest
from absl.testing import parameterized
from helpers import cell_inputs, sequence_inputs
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jaxrnn import autodiff
from jaxrnn.cells import CELLS
from jaxrnn.gradcheck import check_backward
from jaxrnn.gradcheck.tolerances import AGREEMENT, relative_error
from jaxrnn.problems import check_problem
from jaxrnn.testing import assert_gradients_close

DEVICES = list(dict.fromkeys([*jax.devices(), *jax.devices("cpu")]))


@contextlib.contextmanager
def on(device, dtype):
    """Run on ``device`` in ``dtype``; float32 matrix products stay out of TF32 on GPUs."""
    with (
        jax.default_device(device),
        jax.enable_x64(np.dtype(dtype) == np.float64),
        jax.default_matmul_precision("highest"),
    ):
        yield


def twins(cell, level):
    """(manual, autodiff twin) for a cell at a level."""
    if level == "cell":
        return cell.cell_backward, autodiff.cell_backward_twin(cell)
    return cell.backward, autodiff.backward_twin(cell)


def backward_arguments(cell, level, sizes, dtype, scale=1.0):
    """``(*cotangents, cache)`` or ``(da, caches)`` for one draw."""
    rng = np.random.default_rng(sizes["seed"])
    if level == "cell":
        xt, state, parameters, dstate = cell_inputs(
            cell, rng, sizes["n_x"], sizes["n_a"], sizes["n_y"], sizes["m"], dtype, scale
        )
        return (*dstate, cell.cell_forward(xt, *state, parameters)[-1])
    x, a0, parameters, da = sequence_inputs(
        cell, rng, sizes["n_x"], sizes["n_a"], sizes["n_y"], sizes["m"], sizes["T_x"],
        sizes["T_da"], dtype, scale,
    )  # fmt: skip
    return da, cell.forward(x, a0, parameters)[-1]


def run_both(cell, level, sizes, dtype, scale=1.0, variant=jax.jit):
    """The manual gradients, the autodiff twin's, and the twin's in float64 on the same
    (rounded) inputs as a function, for one draw, the first two through ``variant``."""
    arguments = backward_arguments(cell, level, sizes, dtype, scale)
    manual, twin = twins(cell, level)

    def exact():
        with jax.enable_x64(True):
            up = lambda v: np.asarray(v, np.float64) if np.issubdtype(v.dtype, np.floating) else v  # noqa: E731
            return twin(*jax.tree.map(up, arguments))

    return variant(manual)(*arguments), variant(twin)(*arguments), exact


@st.composite
def shapes(draw):
    T_x = draw(st.integers(1, 8))
    return {
        "n_x": draw(st.integers(1, 5)),
        "n_a": draw(st.integers(1, 6)),
        "n_y": draw(st.integers(1, 3)),
        "m": draw(st.integers(1, 5)),
        "T_x": T_x,
        "T_da": draw(st.integers(1, T_x)),
        "seed": draw(st.integers(0, 2**31 - 1)),
    }


class ManualAgreesWithVjp(chex.TestCase):
    """chex's variants: with and without jax.jit, inputs put on the device (jax.device_put)
    and taken off it (NumPy arrays)."""

    @chex.variants(with_jit=True, without_jit=True, with_device=True, without_device=True)
    @parameterized.product(
        cell=list(CELLS), level=["cell", "sequence"], dtype=["float32", "float64"],
        device=list(range(len(DEVICES))),
    )  # fmt: skip
    @settings(max_examples=2)
    @given(sizes=shapes())
    def test_manual_agrees_with_vjp(self, cell, level, dtype, device, sizes):
        dtype = np.dtype(dtype)
        with on(DEVICES[device], dtype):
            manual, reference, exact = run_both(
                CELLS[cell], level, sizes, dtype, variant=self.variant
            )
            assert_gradients_close(manual, reference, dtype, exact)


def test_float32_cancellation_is_judged_against_float64():
    """A 1 x 1 dWaa summed over 4 examples: float32 rounding puts the manual backward 5.8e-4
    from jax.vjp, beyond float32's 2e-4, while both are as far from float64's answer. It
    agrees; the same gradient 1% off does not."""
    sizes = {"n_x": 5, "n_a": 1, "n_y": 3, "m": 4, "T_x": 1, "T_da": 1, "seed": 14944}
    manual, reference, exact = run_both(
        CELLS["rnn"], "cell", sizes, np.float32, variant=lambda f: f
    )
    assert relative_error(manual["dWaa"], reference["dWaa"]) > AGREEMENT[np.dtype("float32")].rtol
    with pytest.raises(AssertionError, match="dWaa"):
        assert_gradients_close(manual, reference, np.float32)  # without float64's answer
    assert_gradients_close(manual, reference, np.float32, exact)
    with pytest.raises(AssertionError, match="dWaa"):
        wrong = {**manual, "dWaa": manual["dWaa"] * 1.01}
        assert_gradients_close(wrong, reference, np.float32, exact)


@pytest.mark.parametrize("level", ["cell", "sequence"])
@pytest.mark.parametrize("scale", [30.0, 300.0])
def test_saturated_gates_agree_and_stay_finite(cell, level, scale, dtype):
    """Pre-activations of +-30 and far beyond: the gradients vanish, but must still agree,
    relative to the problem's largest gradient. In saturation ``1 - a**2`` and ``s (1 - s)``
    are differences of numbers next to 1: a gradient made of them is the rounding residue of
    terms of the other gradients' size (3e-16 where the truth is e**-300), which the twin, in
    a program of its own, rounds its own way; measured against itself it would be judged on
    its rounding. The dtype's AGREEMENT tolerance, of the largest gradient (0 for an RNN at
    300, whose every gradient is then exactly 0 both ways)."""
    sizes = {"n_x": 3, "n_a": 4, "n_y": 2, "m": 3, "T_x": 5, "T_da": 5, "seed": 3}
    manual, reference, _ = run_both(cell, level, sizes, dtype, scale=scale)
    assert set(manual) == set(reference)
    largest = max(float(np.max(np.abs(np.asarray(g, np.float64)))) for g in reference.values())
    bound = AGREEMENT[np.dtype(dtype)].rtol * largest
    for key, want in reference.items():
        got, want = np.asarray(manual[key], np.float64), np.asarray(want, np.float64)
        assert np.all(np.isfinite(got)), key
        assert np.max(np.abs(got - want), initial=0.0) <= bound, (key, got, want, bound)


def test_saturation_is_reached():
    """The scale above does saturate: LSTM gates sit at 0 or 1 to float64 precision."""
    cell = CELLS["lstm"]
    rng = np.random.default_rng(3)
    xt, state, parameters, _ = cell_inputs(cell, rng, 3, 4, 2, 3, np.float64, scale=30.0)
    with jax.enable_x64(True):
        *_, ft, it, cct, ot, _, _ = cell.cell_forward(xt, *state, parameters)[-1]
    gates = np.concatenate([np.ravel(ft), np.ravel(it), np.ravel(ot)])
    assert np.mean(np.minimum(gates, 1 - gates) < 1e-12) > 0.5


@given(sizes=shapes())
def test_jax_grad_of_hidden_loss_equals_manual(cell, sizes):
    """The documents' backward is jax.grad of J = sum(da * a[:, :, :T_da])."""
    rng = np.random.default_rng(sizes["seed"])
    x, a0, parameters, da = sequence_inputs(
        cell, rng, sizes["n_x"], sizes["n_a"], sizes["n_y"], sizes["m"], sizes["T_x"], sizes["T_da"]
    )
    with jax.enable_x64(True):
        manual = cell.backward(da, cell.forward(x, a0, parameters)[-1])
        assert_gradients_close(
            manual, autodiff.hidden_loss_gradients(cell, da, x, a0, parameters), np.float64
        )


@pytest.mark.parametrize("level", ["cell", "sequence"])
@given(sizes=shapes())
# a saturated RNN whose da0 (1.8e-5) is as small as the difference quotient's rounding noise
@example(sizes={"n_x": 3, "n_a": 2, "n_y": 2, "m": 1, "T_x": 4, "T_da": 1, "seed": 2**31 - 1})
def test_float64_finite_differences(cell, level, sizes):
    """A third opinion: central differences in float64, through the gradient checker."""
    rng = np.random.default_rng(sizes["seed"])
    n = (sizes["n_x"], sizes["n_a"], sizes["n_y"], sizes["m"])
    if level == "cell":
        xt, state, parameters, dstate = cell_inputs(cell, rng, *n)
        inputs = {"xt": xt, **{f"{s}_prev": v for s, v in zip(cell.state, state, strict=True)}}
        forward, backward, cotangents = cell.cell_forward, cell.cell_backward, dstate
    else:
        x, a0, parameters, da = sequence_inputs(cell, rng, *n, sizes["T_x"])
        inputs, forward, backward, cotangents = {"x": x, "a0": a0}, cell.forward, cell.backward, da
    with jax.enable_x64(True):
        report = check_backward(
            forward, backward, {**inputs, "parameters": parameters}, cotangents,
            finite_differences=True, seed=sizes["seed"],
        )  # fmt: skip
    assert report.ok, f"\n{report}"
    assert all(row["fd"].error is not None for row in report.rows)


def test_autodiff_twins_reproduce_the_documents():
    from jaxrnn.course import exercises

    for exercise in exercises.EXERCISES:
        if not exercise.backward:
            continue
        with jax.enable_x64(True):
            observed = exercises.run_exercise(exercise, api=autodiff)
        lines = exercises.compare(observed, exercise.expected)
        assert all(line.ok for line in lines), exercise.function


@pytest.mark.parametrize("level", ["lengths", "reverse", "bidirectional", "stacked"])
def test_every_level_agrees_with_autodiff_and_finite_differences(cell, level, dtype):
    """Variable lengths (0 and T_x among them), reversed time, a bidirectional layer, and a
    stack under the loss: the hand-derived backward against jax.vjp, and in float64 against
    finite differences and forward mode (jaxrnn.problems; the float32 problem is the float64
    one rounded, whose float64 opinions the float64 case forms, as jaxrnn check's rows do)."""
    fd = dtype == np.float64
    report = check_problem(cell, level, dtype, finite_differences=fd, adjoint=fd)
    assert report.ok, f"\n{report}"
    assert not fd or all(row["fd"].settled for row in report.rows)
