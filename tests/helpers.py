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


def saturated_problem(cell, level, dtype, scale, seed, sizes=(3, 4, 3, 5)):
    """``(forward, backward, inputs, cotangents)`` for ``check_backward`` at the cell or
    sequence level, weights ``scale`` times the usual; ``sizes`` are ``(n_x, n_a, m, T_x)``."""
    n_x, n_a, m, T_x = sizes
    rng = np.random.default_rng(seed)
    if level == "cell":
        xt, state, p, dstate = cell_inputs(cell, rng, n_x, n_a, 2, m, dtype, scale)
        names = ["xt", *(f"{s}_prev" for s in cell.state), "parameters"]
        inputs = dict(zip(names, [xt, *state, p], strict=True))
        return cell.cell_forward, cell.cell_backward, inputs, tuple(dstate)
    x, a0, p, da = sequence_inputs(cell, rng, n_x, n_a, 2, m, T_x, T_x, dtype, scale)
    return cell.forward, cell.backward, {"x": x, "a0": a0, "parameters": p}, (da,)
