"""dtypes in and out, no global configuration change, and the per-column softmax."""

import subprocess
import sys

import jax
import numpy as np
from helpers import sequence_inputs

import jaxrnn


def test_output_dtype_follows_input(cell, dtype, rng):
    x, a0, parameters, da = sequence_inputs(cell, rng, 2, 3, 2, 4, 5, dtype=dtype)
    *outputs, caches = cell.forward(x, a0, parameters)
    gradients = cell.backward(da, caches)
    leaves = [*outputs, *jax.tree.leaves(caches), *gradients.values()]
    assert {np.dtype(leaf.dtype) for leaf in leaves} == {dtype}


def test_import_leaves_jax_configuration_alone():
    script = (
        "import jax; before = dict(jax.config.values); import jaxrnn, jaxrnn.cli; "
        "after = dict(jax.config.values); "
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
