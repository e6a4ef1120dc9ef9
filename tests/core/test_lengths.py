"""Variable lengths and reversed time: the semantics asserted directly (each example as if run
alone on its own length), the manual backward against autodiff, and the edges."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import sequence_inputs
from user_cells import MGU, NORM

from jaxrnn import autodiff, custom_vjp, loss
from jaxrnn.problems import check_problem
from jaxrnn.testing import assert_gradients_close

LENGTHS = np.array([0, 6, 3, 1, 5])  # nothing, everything, and between


def alone(cell, x, a0, parameters, i, length, reverse):
    """Example i run alone on its own length, in its own direction: (a, y_pred, *states)."""
    xi = x[:, i : i + 1, :length]
    xi = xi[:, :, ::-1] if reverse else xi
    outputs = cell.forward(xi, a0[:, i : i + 1], parameters)[:-1]
    return [np.asarray(o)[:, :, ::-1] if reverse else np.asarray(o) for o in outputs]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("path", ["fast", "generic"])
def test_each_example_is_as_if_run_alone_on_its_length(cell, path, reverse, rng):
    cell = cell if path == "fast" else cell.generic
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        *outputs, caches = cell.forward(x, a0, parameters, lengths=LENGTHS, reverse=reverse)
        for i, length in enumerate(LENGTHS):
            for got, want in zip(outputs, alone(cell, x, a0, parameters, i, length, reverse)
                                 if length else [None] * len(outputs), strict=True):  # fmt: skip
                got = np.asarray(got)[:, i]
                if length:
                    np.testing.assert_allclose(got[:, :length], want[:, 0], rtol=1e-12, atol=1e-14)
                assert not np.any(got[:, length:])  # zero beyond the length
        manual = cell.backward(da, caches)
        reference = autodiff.backward_twin(cell)(da, caches)
        by_grad = autodiff.hidden_loss_gradients(cell, da, x, a0, parameters, lengths=LENGTHS,
                                                 reverse=reverse)  # fmt: skip
    assert_gradients_close(manual, reference)
    assert_gradients_close(manual, by_grad)
    dx = np.asarray(manual["dx"])
    for i, length in enumerate(LENGTHS):
        assert not np.any(dx[:, i, length:])  # no gradient through the steps beyond it
    assert not np.any(np.asarray(manual["da0"])[:, 0])  # length 0: da reaches nothing


def test_a_cell_of_your_own_takes_lengths_too(rng):
    x, a0, parameters, da = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        caches = MGU.forward(x, a0, parameters, lengths=LENGTHS, reverse=True)[-1]
        assert_gradients_close(MGU.backward(da, caches), autodiff.backward_twin(MGU)(da, caches))


@pytest.mark.parametrize("checkpoint", [None, 2])
def test_custom_vjp_and_loss_honour_lengths(cell, checkpoint, rng):
    x, a0, parameters, _ = sequence_inputs(cell, rng, 3, 4, 2, 5, 6)
    labels = rng.integers(0, 2, (5, 6))
    labels[0] = -1  # padding beyond the lengths is never read
    weights = [rng.standard_normal(s) for s in [(4, 5, 6), (2, 5, 6), (4, 5, 6)]]

    def loss_of(function):
        return lambda p: sum(
            jnp.sum(w * o) for w, o in zip(weights, function(x, a0, p), strict=False)
        )

    with jax.enable_x64(True):
        manual = jax.grad(loss_of(lambda *a: custom_vjp.of(cell)(
            *a, checkpoint=checkpoint, lengths=LENGTHS, reverse=True)))(parameters)  # fmt: skip
        want = jax.grad(loss_of(lambda *a: cell.forward(*a, lengths=LENGTHS, reverse=True)[:-1]))(
            parameters
        )
        J, gradients = loss.loss_and_gradients(cell, x, a0, parameters, labels, lengths=LENGTHS)
        by_grad = jax.grad(loss.cross_entropy, argnums=3)(cell, x, a0, parameters, labels,
                                                           lengths=LENGTHS)  # fmt: skip
    assert_gradients_close(manual, want)
    assert_gradients_close({k: gradients[f"d{k}"] for k in by_grad}, by_grad)
    assert np.isfinite(float(J))


def test_lengths_are_checked_and_under_jit_an_out_of_range_one_is_nan(rng):
    cell = MGU
    x, a0, parameters, _ = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    cases = [
        (np.array([0, 6, 3, 1, 7]), ValueError, r"\[0, T_x\] = \[0, 6\]; got values in \[0, 7\]"),
        (np.array([0, 6, 3, 1, -1]), ValueError, r"got values in \[-1, 6\]"),
        (np.array([0, 6, 3, 1]), ValueError, r"shape \(m,\) = \(5,\)"),
        (np.ones(5), TypeError, "must hold integers"),
    ]
    for lengths, error, fragment in cases:
        with pytest.raises(error, match=fragment):
            cell.forward(x, a0, parameters, lengths=lengths)
    a = jax.jit(lambda L: cell.forward(x, a0, parameters, lengths=L)[0])(np.array([0, 6, 3, 1, 7]))
    assert np.isnan(np.asarray(a)[:, 4]).all() and np.isfinite(np.asarray(a)[:, :4]).all()


def test_kept_gradients_honour_the_caches_lengths(cell, rng):
    """hidden_state_gradients with lengths: zero beyond each length; at full lengths, the
    same as without."""
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        full = loss.hidden_state_gradients(cell, da, cell.forward(x, a0, parameters)[-1])
        caches = cell.forward(x, a0, parameters, lengths=np.full(5, 6))[-1]
        np.testing.assert_allclose(loss.hidden_state_gradients(cell, da, caches), full, rtol=1e-12)
        kept = loss.hidden_state_gradients(cell, da, cell.forward(
            x, a0, parameters, lengths=LENGTHS)[-1])  # fmt: skip
    for i, length in enumerate(LENGTHS):
        assert not np.any(np.asarray(kept)[:, i, length:])


@pytest.mark.parametrize("reverse", [False, True])
def test_final_state_is_the_last_valid_one(reverse, rng):
    """What each example alone, over its own length, ends with; a0 for a length of 0."""
    from jaxrnn.cells import LSTM
    from jaxrnn.layers import final_state

    x, a0, parameters, _ = sequence_inputs(LSTM, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        a, _, c, _ = LSTM.forward(x, a0, parameters, lengths=LENGTHS, reverse=reverse)
        last_a = np.asarray(final_state(a, a0, LENGTHS, reverse))
        last_c = np.asarray(final_state(c, np.zeros_like(a0), LENGTHS, reverse))
        for i, length in enumerate(LENGTHS):
            if not length:
                np.testing.assert_array_equal(last_a[:, i], a0[:, i])
                assert not np.any(last_c[:, i])
                continue
            xi = x[:, i : i + 1, :length][:, :, ::-1] if reverse else x[:, i : i + 1, :length]
            a_i, _, c_i, _ = LSTM.forward(xi, a0[:, i : i + 1], parameters)
            np.testing.assert_allclose(last_a[:, i], np.asarray(a_i)[:, 0, -1], rtol=1e-12)
            np.testing.assert_allclose(last_c[:, i], np.asarray(c_i)[:, 0, -1], rtol=1e-12)
        full = np.asarray(final_state(a, a0, reverse=reverse))  # no lengths: the last step
        np.testing.assert_array_equal(full, np.asarray(a)[:, :, 0 if reverse else -1])
        with pytest.raises(ValueError, match=r"final_state: `lengths` must lie in \[0, T_x\]"):
            final_state(a, a0, LENGTHS + 2)
        with pytest.raises(ValueError, match="final_state: `initial` has shape"):
            final_state(a, a0[:, :2])


def test_padded_steps_contribute_nothing_whatever_the_cell_computes_there(rng):
    """NORM is NaN at x = 0, the padding beyond a length: those steps are selected away, not
    multiplied by zero, so the gradients are those of each example run alone."""
    x, a0, parameters, da = sequence_inputs(NORM, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        manual = NORM.backward(da, NORM.forward(x, a0, parameters, lengths=LENGTHS)[-1])
        twin = autodiff.hidden_loss_gradients(NORM, da, x, a0, parameters, lengths=LENGTHS)

        def alone(i):  # example i over its own length, by jax.grad
            def J(x_i, a0_i, p):
                a = NORM.forward(x_i, a0_i, p)[0]
                return jnp.sum(da[:, i : i + 1, : LENGTHS[i]] * a)

            return jax.grad(J, argnums=(0, 1, 2))(x[:, i : i + 1, : LENGTHS[i]],
                                                  a0[:, i : i + 1], parameters)  # fmt: skip

        per_example = {i: alone(i) for i, length in enumerate(LENGTHS) if length}
        report = check_problem(NORM, "lengths", finite_differences=True)
    assert all(np.isfinite(np.asarray(v)).all() for v in manual.values())
    assert_gradients_close(manual, twin)
    for k in ("Wax", "Waa", "ba"):  # the sums over the examples that have steps
        want = sum(np.asarray(g[2][k]) for g in per_example.values())
        np.testing.assert_allclose(manual[f"d{k}"], want, rtol=1e-10, atol=1e-12)
    for i, (dx_i, _, _) in per_example.items():
        np.testing.assert_allclose(np.asarray(manual["dx"])[:, i, : LENGTHS[i]], dx_i[:, 0],
                                   rtol=1e-10, atol=1e-12)  # fmt: skip
    assert report.ok, report


def test_final_state_under_jit_is_nan_for_a_length_out_of_range(rng):
    from jaxrnn.layers import final_state

    x, a0, parameters, _ = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    a = MGU.forward(x, a0, parameters)[0]
    last = jax.jit(lambda L: final_state(a, a0, L))(np.array([0, -1, 3, 9, 6]))
    assert np.isnan(np.asarray(last)[:, [1, 3]]).all()
    assert np.isfinite(np.asarray(last)[:, [0, 2, 4]]).all()
    with pytest.raises(TypeError, match="final_state: `reverse` must be True or False; got str"):
        final_state(a, a0, LENGTHS, reverse="no")


@pytest.mark.parametrize("options", [{"lengths": LENGTHS}, {"reverse": True},
                                     {"lengths": LENGTHS, "reverse": True}])  # fmt: skip
def test_the_documents_list_of_such_caches_keeps_lengths_and_direction(cell, options, rng):
    """(list(caches[0]), caches[1]) is the same sequence to the backward; a list that cannot
    be (steps out of order, of two forwards, through jit) is refused, not another answer."""
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        caches = cell.forward(x, a0, parameters, **options)[-1]
        other = cell.forward(x, a0, parameters, lengths=LENGTHS[::-1])[-1]
        whole = cell.backward(da, caches)
        listed = cell.backward(da, (list(caches[0]), caches[1]))
        for key, value in whole.items():
            np.testing.assert_array_equal(listed[key], value)
        steps = list(caches[0])
        for bad, fragment in [
            (steps[::-1], "out of order"),
            ([*steps[:3], *list(other[0])[3:]], "another forward"),
            (jax.jit(lambda s: s)(steps), "lost"),
        ]:
            with pytest.raises(TypeError, match=fragment):
                cell.backward(da, (bad, caches[1]))
