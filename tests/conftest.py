"""Fixtures shared by the test modules, and the one way tests are parametrized.

A test takes the ``cell`` fixture (each built-in cell), the ``dtype`` fixture (float32 and
float64, float64 switched on locally, never globally) and ``rng``; shapes, where they matter,
are drawn by hypothesis. Both fixtures hold nothing an example could change, so hypothesis may
run many examples with one.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from jaxrnn.cells import CELLS

DTYPES = (np.dtype("float32"), np.dtype("float64"))

settings.register_profile(
    "jaxrnn",
    max_examples=4,
    deadline=None,  # the first example of a shape compiles
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("jaxrnn")


def x64(dtype):
    """The context a dtype needs: float64 is switched on locally, never globally."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


@pytest.fixture(params=DTYPES, ids=lambda d: d.name)
def dtype(request):
    with x64(request.param):
        yield request.param


@pytest.fixture(params=list(CELLS.values()), ids=list(CELLS))
def cell(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="module")
def _fresh_compilation_caches():
    """Each test module ends by clearing JAX's caches. XLA's CPU backend maps every compiled
    program into memory; one process that keeps the suite's thousands of programs runs out of
    memory mappings, and LLVM then fails to compile (the process crashed, in test_reference)."""
    yield
    jax.clear_caches()
