"""dtypes in and out, no global configuration change, and the per-column softmax."""

import subprocess
import sys

import chex
import jax
import numpy as np
from helpers import cell_inputs, sequence_inputs

import jaxrnn


def test_the_documents_returns_have_their_shapes_and_the_input_dtype(cell, dtype, rng):
    """chex.assert_shape / assert_type on every return of the four documents' functions."""
    n_x, n_a, n_y, m, T_x = 2, 3, 4, 5, 6
    shapes = cell.shapes(n_x, n_a, n_y)
    gradient_shapes = [shapes[k] for k in cell.gradient_keys]
    x, a0, parameters, da = sequence_inputs(cell, rng, n_x, n_a, n_y, m, T_x, dtype=dtype)
    *outputs, caches = cell.forward(x, a0, parameters)
    gradients = cell.backward(da, caches)
    states = [(n_a, m, T_x)] * (len(cell.state) - 1)
    chex.assert_shape(outputs, [(n_a, m, T_x), (n_y, m, T_x), *states])
    chex.assert_shape(list(gradients.values()), [(n_x, m, T_x), (n_a, m), *gradient_shapes])
    chex.assert_type([*outputs, *jax.tree.leaves(caches), *gradients.values()], dtype)
    xt, state, parameters, dstate = cell_inputs(cell, rng, n_x, n_a, n_y, m, dtype=dtype)
    *outputs, cache = cell.cell_forward(xt, *state, parameters)
    gradients = cell.cell_backward(*dstate, cache)
    chex.assert_shape(outputs, [(n_a, m)] * len(cell.state) + [(n_y, m)])
    chex.assert_shape(list(gradients.values()),
                      [(n_x, m), *[(n_a, m)] * len(cell.state), *gradient_shapes])  # fmt: skip
    chex.assert_type([*outputs, *jax.tree.leaves(cache), *gradients.values()], dtype)
    assert len(cache) == cell.cache_length


def test_import_leaves_jax_configuration_alone():
    script = (
        "import jax; before = dict(jax.config.values); "
        "import jaxrnn, jaxrnn.cli.command, jaxrnn.cli.xla; after = dict(jax.config.values); "
        "print({k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)})"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{}"


def test_softmax_normalises_each_column_with_its_own_maximum():
    with jax.enable_x64(True):
        z = np.array([[0.0, -2001.0, 1.0], [1.0, -2000.0, 3.0]])
        out = np.asarray(jaxrnn.softmax(z))
        np.testing.assert_allclose(out.sum(axis=0), 1.0, rtol=1e-15)
        # the documents' whole-array maximum makes the middle column 0/0 = NaN; here it is
        # the same distribution as the first column, and the finite columns are unchanged
        np.testing.assert_allclose(out[:, 1], out[:, 0], rtol=1e-15)
        e = np.exp(z[:, 2] - z.max())
        np.testing.assert_allclose(out[:, 2], e / e.sum(), rtol=1e-15)


def test_sigmoid_is_finite_far_out():
    with jax.enable_x64(True):
        out = np.asarray(jaxrnn.sigmoid(np.array([-1000.0, 0.0, 1000.0])))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
