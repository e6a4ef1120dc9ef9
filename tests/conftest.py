"""Fixtures shared by the test modules, and the one way tests are parametrized.

A test takes the ``cell`` fixture (each built-in cell), the ``dtype`` fixture (float32 and
float64, float64 switched on locally, never globally) and ``rng``; shapes, where they matter,
are drawn by hypothesis. Both fixtures hold nothing an example could change, so hypothesis may
run many examples with one.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from jaxrnn.cells import CELLS
from jaxrnn.cli.xla import use_fast_compile

DTYPES = (np.dtype("float32"), np.dtype("float64"))

settings.register_profile(
    "jaxrnn",
    max_examples=4,
    deadline=None,  # the first example of a shape compiles
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("jaxrnn")


#: the variable naming the suite's compilation cache, shared by its processes
_CACHE = "JAXRNN_TEST_COMPILATION_CACHE"


def pytest_configure(config):
    """One persistent compilation cache for this run of the suite, in a fresh temporary folder
    shared by its processes (pytest-xdist's workers, the CLI's and the notebooks' subprocesses):
    a program compiled once is read back wherever it recurs, after a module's clearing of the
    caches below or in another process. It changes what is compiled again, never a result; a
    run starts from an empty cache, so it depends on no earlier one.
    ``JAXRNN_TEST_COMPILATION_CACHE=off`` runs the suite without it."""
    _fast_compile()
    if os.environ.get(_CACHE) == "off":  # to measure the suite without it
        return
    if _CACHE not in os.environ:  # the first process of the run; xdist's workers inherit it
        os.environ[_CACHE] = tempfile.mkdtemp(prefix="jaxrnn-test-xla-")
        config._jaxrnn_cache_owner = True
    # pytest-xdist's workers share an accelerator: none may take most of its memory up front
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.environ[_CACHE]  # for subprocesses
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "-1"
    jax.config.update("jax_compilation_cache_dir", os.environ[_CACHE])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


#: set in the environment once the suite's XLA flags are, so that xdist's workers (which
#: inherit them) do not add them again
_FLAGS_SET = "JAXRNN_TEST_XLA_FLAGS_SET"


def _fast_compile():
    """XLA's CPU compiler set for compile time, as ``jaxrnn check`` sets it: the suite, too,
    is mostly XLA compiling small programs. The same tests and tolerances; only how XLA's CPU
    backend generates code changes. ``JAXRNN_FAST_COMPILE=off`` runs the suite with XLA's
    defaults. Set before any backend starts (XLA reads its flags once), and inherited by the
    workers and subprocesses."""
    if not os.environ.get(_FLAGS_SET) and use_fast_compile():
        os.environ[_FLAGS_SET] = "1"


def pytest_unconfigure(config):
    if getattr(config, "_jaxrnn_cache_owner", False):
        shutil.rmtree(os.environ.pop(_CACHE), ignore_errors=True)


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
