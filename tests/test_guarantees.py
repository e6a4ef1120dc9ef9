"""What docs/guarantees.md promises, each promise tested."""

import jax
import numpy as np
from helpers import cell_inputs, sequence_inputs

from jaxrnn import custom_vjp


def test_results_do_not_change_when_the_callers_arrays_do(cell, rng):
    """A cache made from NumPy arrays must not share their memory: the caller writing into
    xt, a_prev, x, a0 or a parameter afterwards changes no cache and no later gradient (on the
    CPU, jnp.asarray can share a NumPy buffer)."""
    xt, state, parameters, dstate = cell_inputs(cell, rng, 3, 4, 2, 5, dtype=np.float32)
    cache = cell.cell_forward(xt, *state, parameters)[-1]
    before = {k: np.array(v) for k, v in cell.cell_backward(*dstate, cache).items()}
    x, a0, _, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    caches = cell.forward(x, a0, parameters)[-1]
    before_sequence = {k: np.array(v) for k, v in cell.backward(da, caches).items()}
    for array in (xt, *state, x, a0, *parameters.values()):
        array[...] = 0.0
    after = cell.cell_backward(*dstate, cache)
    after_sequence = cell.backward(da, caches)
    for key, want in before.items():
        np.testing.assert_array_equal(after[key], want, err_msg=key)
    for key, want in before_sequence.items():
        np.testing.assert_array_equal(after_sequence[key], want, err_msg=key)
    assert np.any(np.asarray(caches[1]) != 0) and np.any(
        np.asarray(cache[-2 if cell.name != "rnn" else 2]) != 0
    )


def test_inputs_are_never_written_and_calls_repeat_bit_for_bit(cell, rng):
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    copies = [np.array(v) for v in (x, a0, da, *parameters.values())]
    runs = []
    for _ in range(2):
        caches = cell.forward(x, a0, parameters)[-1]
        runs.append(cell.backward(da, caches))
    for got, want in zip((x, a0, da, *parameters.values()), copies, strict=True):
        np.testing.assert_array_equal(got, want)
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


def test_nan_in_gives_nan_out_without_an_error(cell, rng):
    """Values are not checked (under jit they cannot be): a NaN input propagates as NaN."""
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    x[0, 1, 2] = np.nan
    *outputs, caches = cell.forward(x, a0, parameters)
    assert np.isnan(np.asarray(outputs[0])[:, 1, 2:]).all()  # example 1 from step 2 on
    assert np.isfinite(np.asarray(outputs[0])[:, 0]).all()  # the other examples untouched
    gradients = cell.backward(da, caches)
    assert np.isnan(np.asarray(gradients[f"d{cell.gradient_keys[0]}"])).any()
    a = jax.jit(lambda x: getattr(custom_vjp, cell.name)(x, a0, parameters)[0])(x)
    assert np.isnan(np.asarray(a)[:, 1, 2:]).all()
