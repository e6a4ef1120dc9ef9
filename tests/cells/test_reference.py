"""jaxrnn against the independent NumPy reference, on shapes and values drawn by hypothesis.

Every returned value is compared: states, predictions, each cache entry, every gradient.
Dimensions run from 1 up (one example, one time step, one unit), and ``da`` may cover only the
first steps of ``x``.
"""

import jax
import numpy as np
from helpers import cell_inputs, sequence_inputs
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxrnn.course import reference as ref
from jaxrnn.gradcheck.tolerances import AGREEMENT, scaled_error

TOL = AGREEMENT[np.dtype("float64")]


def assert_close(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert scaled_error(got, want, TOL) <= 1, f"{what}: {np.max(np.abs(got - want))}"


def assert_tree_close(got, want, what):
    if isinstance(want, dict):
        assert list(got) == list(want), f"{what}: keys {list(got)} != {list(want)}"
        for key in want:
            assert_close(got[key], want[key], f"{what}[{key!r}]")
    else:
        assert_close(got, want, what)


sizes = st.fixed_dictionaries(
    {
        "n_x": st.integers(1, 6),
        "n_a": st.integers(1, 6),
        "n_y": st.integers(1, 4),
        "m": st.integers(1, 5),
        "T_x": st.integers(1, 6),
        "seed": st.integers(0, 2**31 - 1),
    }
)


@settings(max_examples=12)
@given(sizes=sizes, data=st.data())
def test_sequence_matches_reference(cell, sizes, data):
    T_da = data.draw(st.integers(1, sizes["T_x"]), label="T_da")
    rng = np.random.default_rng(sizes.pop("seed"))
    x, a0, parameters, da = sequence_inputs(cell, rng, **sizes, T_da=T_da)
    reference_forward = getattr(ref, cell.forward.__name__)
    reference_backward = getattr(ref, cell.backward.__name__)
    with jax.enable_x64(True):
        *outputs, caches = cell.forward(x, a0, parameters)
        *want_outputs, want_caches = reference_forward(x, a0, parameters)
        for i, (got, want) in enumerate(zip(outputs, want_outputs, strict=True)):
            assert_close(got, want, f"output {i}")
        assert len(caches) == 2 and len(caches[0]) == sizes["T_x"]
        assert_close(caches[1], want_caches[1], "caches[1]")
        for t, want_step in enumerate(want_caches[0]):
            step = caches[0][t]
            assert len(step) == len(want_step)
            for i, (got, want) in enumerate(zip(step[:-1], want_step[:-1], strict=True)):
                assert_close(got, want, f"caches[0][{t}][{i}]")
        gradients = cell.backward(da, caches)
        assert_tree_close(gradients, reference_backward(da, want_caches), "gradients")
        assert gradients["dx"].shape == x.shape


@settings(max_examples=10)
@given(sizes=sizes)
def test_cell_matches_reference(cell, sizes):
    rng = np.random.default_rng(sizes.pop("seed"))
    sizes.pop("T_x")
    xt, state, parameters, dstate = cell_inputs(cell, rng, **sizes)
    reference_forward = getattr(ref, cell.cell_forward.__name__)
    reference_backward = getattr(ref, cell.cell_backward.__name__)
    with jax.enable_x64(True):
        *outputs, cache = cell.cell_forward(xt, *state, parameters)
        *want_outputs, want_cache = reference_forward(xt, *state, parameters)
        for i, (got, want) in enumerate(zip(outputs, want_outputs, strict=True)):
            assert_close(got, want, f"output {i}")
        for i, (got, want) in enumerate(zip(cache[:-1], want_cache[:-1], strict=True)):
            assert_close(got, want, f"cache[{i}]")
        assert_tree_close(
            cell.cell_backward(*dstate, cache), reference_backward(*dstate, want_cache), "gradients"
        )
