"""Fixtures shared by the test modules: dtypes (float64 switched on locally) and random data."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from jaxrnn.cells import CELLS

DTYPES = (np.dtype("float32"), np.dtype("float64"))


def x64(dtype):
    """The context a dtype needs: float64 is switched on locally, never globally."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


@pytest.fixture(params=DTYPES, ids=lambda d: d.name)
def dtype(request):
    with x64(request.param):
        yield request.param


@pytest.fixture(params=sorted(CELLS))
def cell(request):
    return CELLS[request.param]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
