"""Random inputs shared by the test modules."""

from __future__ import annotations

import numpy as np


def sequence_inputs(cell, rng, n_x, n_a, n_y, m, T_x, T_da=None, dtype=np.float64, scale=1.0):
    """x, a0, parameters and da for one draw; ``da`` covers the first ``T_da`` steps."""
    parameters = cell.random_parameters(rng, n_x, n_a, n_y, dtype, scale)
    x = rng.standard_normal((n_x, m, T_x)).astype(dtype)
    a0 = rng.standard_normal((n_a, m)).astype(dtype)
    da = rng.standard_normal((n_a, m, T_x if T_da is None else T_da)).astype(dtype)
    return x, a0, parameters, da


def cell_inputs(cell, rng, n_x, n_a, n_y, m, dtype=np.float64, scale=1.0):
    """xt, the previous state(s), parameters and the gradients of the next state(s)."""
    parameters = cell.random_parameters(rng, n_x, n_a, n_y, dtype, scale)
    xt = rng.standard_normal((n_x, m)).astype(dtype)
    state = [rng.standard_normal((n_a, m)).astype(dtype) for _ in cell.state]
    dstate = [rng.standard_normal((n_a, m)).astype(dtype) for _ in cell.state]
    return xt, state, parameters, dstate
