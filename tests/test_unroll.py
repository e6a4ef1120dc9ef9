"""The pieces of jaxrnn.unroll on their own: the sequence cache, the gate-gradient columns and
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
