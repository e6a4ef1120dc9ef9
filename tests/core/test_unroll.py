"""The pieces of jaxrnn._core.unroll on their own: the sequence cache, the gate-gradient columns and
the reverse scan."""

import jax
import numpy as np
import pytest
from helpers import sequence_inputs

from jaxrnn.cells import LSTM, RNN


def rnn_caches(rng, T_x=6):
    x, a0, parameters, _ = sequence_inputs(RNN, rng, 3, 4, 2, 5, T_x, dtype=np.float32)
    return RNN.forward(x, a0, parameters)[-1]


def test_sequence_cache_indexes_like_a_list(rng):
    steps, _ = rnn_caches(rng)
    listed = list(steps)
    assert len(steps) == len(listed) == 6
    for t in range(-6, 6):
        for got, want in zip(steps[t][:-1], listed[t][:-1], strict=True):
            np.testing.assert_array_equal(got, want)
    for t in (6, -7, 100):
        with pytest.raises(IndexError, match=f"index {t} out of range for T_x = 6"):
            steps[t]  # clamped to the last (first) step before
        with pytest.raises(IndexError):
            listed[t]
    assert len(steps[2:4]) == 2 and len(steps[10:]) == 0


@pytest.mark.parametrize("index", [1.0, "1", None, np.array([1, 2])])
def test_sequence_cache_refuses_indices_a_list_refuses(rng, index):
    steps, _ = rnn_caches(rng)
    with pytest.raises(TypeError, match="integers or slices"):
        steps[index]


def test_sequence_cache_refuses_a_traced_index(rng):
    steps, _ = rnn_caches(rng)
    with pytest.raises(TypeError, match="dynamic_index_in_dim"):
        jax.jit(lambda t: steps[t][0])(1)


def test_sequence_cache_from_steps_stacks_the_documents_list(rng):
    x, a0, parameters, _ = sequence_inputs(LSTM, rng, 3, 4, 2, 5, 3, dtype=np.float32)
    steps = LSTM.forward(x, a0, parameters)[-1][0]
    again = type(steps).from_steps(list(steps))
    for got, want in zip(again.fields, steps.fields, strict=True):
        np.testing.assert_array_equal(got, want)
    assert again.parameters is steps.parameters


def test_gate_columns_write_bands_in_place_and_read_them_back():
    import jax.numpy as jnp

    from jaxrnn._core.layout import GateColumns

    array = jnp.zeros((5, 3 * 2))  # 5 gate rows, T = 3 steps of m = 2 columns
    bands = (jnp.ones((2, 2)), 2 * jnp.ones((3, 2)))
    written = GateColumns(array, 2, 2).write(*bands)  # step 1
    np.testing.assert_array_equal(written.rows(0, 5), jnp.concatenate(bands))
    np.testing.assert_array_equal(written.array[:, 2:4], jnp.concatenate(bands))
    assert not np.any(written.array[:, :2]) and not np.any(written.array[:, 4:])
    np.testing.assert_array_equal(written.rows(2, 4), 2 * np.ones((2, 2)))


def run_backward(cell, x, a0, parameters, da, checkpoint=None, keep=True):
    """unroll.backward from the loss of the hidden states, as the custom VJP runs it."""
    import jax.numpy as jnp

    from jaxrnn._core import unroll
    from jaxrnn._core.cell import initial_state
    from jaxrnn._core.layout import time_major

    xs, state0 = time_major(jnp.asarray(x)), initial_state(cell, jnp.asarray(a0))
    if checkpoint is None:
        _, saved = unroll.forward(cell, state0, xs, parameters)
    else:
        saved, _ = unroll.checkpointed_forward(cell, state0, xs, parameters, checkpoint)
    upstream = (time_major(jnp.asarray(da)), *(None for _ in cell.state[1:]))
    dstate0 = tuple(jnp.zeros_like(a0) for _ in cell.state)
    return unroll.backward(cell, upstream, saved, xs, parameters, dstate0,
                           checkpoint=checkpoint, keep=keep)  # fmt: skip


@pytest.mark.parametrize("path", ["fast", "generic"])
@pytest.mark.parametrize("checkpoint", [2, 3, 7])
def test_checkpointed_backward_equals_the_whole_one(cell, path, checkpoint, rng):
    """Segments of 2, 3 (7 steps: the last segment padded) and 7 give the unsegmented
    gradients and the same kept gradient of every hidden state, on both paths."""
    cell = cell if path == "fast" else cell.generic
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 7)
    with jax.enable_x64(True):
        whole = run_backward(cell, x, a0, parameters, da)
        segmented = run_backward(cell, x, a0, parameters, da, checkpoint=checkpoint)
    for got, want in zip(jax.tree.leaves(segmented), jax.tree.leaves(whole), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_kept_gradients_are_what_reaches_each_hidden_state(cell, rng):
    """keep=True returns dJ/da<t>: the autodiff probe gives the same (notebook's picture)."""
    from jaxrnn import autodiff

    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        kept = run_backward(cell, x, a0, parameters, da)[-1]
        want = autodiff.hidden_state_gradients(cell, da, x, a0, parameters)
    np.testing.assert_allclose(np.moveaxis(np.asarray(kept), 0, -1), want, rtol=1e-10, atol=1e-14)
