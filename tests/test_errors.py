"""Bad input raises a clear error naming the argument, before JAX traces anything."""

import os
import traceback

import jax
import numpy as np
import pytest

import jaxrnn
from jaxrnn.cells import GRU, LSTM, RNN

rng = np.random.default_rng(0)
F = np.float32


def rnn_case():
    p = RNN.random_parameters(rng, 3, 5, 2)
    x, a0 = np.ones((3, 10, 4), F), np.ones((5, 10), F)
    return x, a0, p, jaxrnn.rnn_forward(x, a0, p)[-1]


def lstm_case():
    p = LSTM.random_parameters(rng, 3, 5, 2)
    x, a0 = np.ones((3, 10, 7), F), np.ones((5, 10), F)
    return x, a0, p, jaxrnn.lstm_forward(x, a0, p)[-1]


def without(parameters, key):
    return {k: v for k, v in parameters.items() if k != key}


def replaced(parameters, key, value):
    return {**parameters, key: value}


x, a0, p, caches = rnn_case()
gp = GRU.random_parameters(rng, 3, 5, 2)
gcaches = jaxrnn.gru_forward(x, a0, gp)[-1]
lx, la0, lp, lcaches = lstm_case()
cell_cache = jaxrnn.rnn_cell_forward(x[..., 0], a0, p)[-1]
lstm_cell_cache = jaxrnn.lstm_cell_forward(lx[..., 0], la0, la0, lp)[-1]

CASES = {
    # wrong rank
    "rnn x rank 2": (lambda: jaxrnn.rnn_forward(x[..., 0], a0, p), ValueError, ["`x`", "rank 3"]),
    "rnn xt rank 3": (lambda: jaxrnn.rnn_cell_forward(x, a0, p), ValueError, ["`xt`", "rank 2"]),
    "lstm a0 rank 3": (lambda: jaxrnn.lstm_forward(lx, lx, lp), ValueError, ["`a0`", "rank 2"]),
    "rnn ba rank 1": (
        lambda: jaxrnn.rnn_forward(x, a0, replaced(p, "ba", np.ones(5, F))),
        ValueError, ["parameters['ba']", "(5,)"],
    ),
    # sizes that do not fit together
    "rnn x vs Wax": (
        lambda: jaxrnn.rnn_forward(np.ones((4, 10, 4), F), a0, p),
        ValueError, ["`x`", "(4, 10, 4)", "n_x = 3", "parameters['Wax']"],
    ),
    "rnn a0 vs Waa": (
        lambda: jaxrnn.rnn_forward(x, np.ones((4, 10), F), p),
        ValueError, ["`a0`", "(4, 10)", "(5, 10)"],
    ),
    "rnn a0 batch vs x": (
        lambda: jaxrnn.rnn_forward(x, np.ones((5, 9), F), p),
        ValueError, ["`a0`", "(5, 9)", "m = 10 from `x`"],
    ),
    "lstm x vs Wf": (
        lambda: jaxrnn.lstm_forward(np.ones((4, 10, 7), F), la0, lp),
        ValueError, ["parameters['Wf']", "(5, 8)", "n_a+n_x", "(5, 9)"],
    ),
    "lstm c_prev vs a_prev": (
        lambda: jaxrnn.lstm_cell_forward(lx[..., 0], la0, np.ones((5, 3), F), lp),
        ValueError, ["`c_prev`", "(5, 3)", "(5, 10)"],
    ),
    "rnn Waa not square": (
        lambda: jaxrnn.rnn_forward(x, a0, replaced(p, "Waa", np.ones((5, 4), F))),
        ValueError, ["parameters['Waa']", "(5, 4)", "(5, 5)"],
    ),
    "rnn da vs caches": (
        lambda: jaxrnn.rnn_backward(np.ones((4, 10, 4), F), caches),
        ValueError, ["`da`", "(4, 10, 4)", "(5, 10, T_da)"],
    ),
    "lstm da batch vs caches": (
        lambda: jaxrnn.lstm_backward(np.ones((5, 3, 7), F), lcaches),
        ValueError, ["`da`", "(5, 3, 7)"],
    ),
    "rnn da longer than x": (
        lambda: jaxrnn.rnn_backward(np.ones((5, 10, 9), F), caches),
        ValueError, ["`da`", "(5, 10, 9)", "9 time steps", "T_x = 4"],
    ),
    "lstm da longer than x": (
        lambda: jaxrnn.lstm_backward(np.ones((5, 10, 8), F), lcaches),
        ValueError, ["`da`", "8 time steps", "T_x = 7"],
    ),
    "rnn da_next vs cache": (
        lambda: jaxrnn.rnn_cell_backward(np.ones((5, 3), F), cell_cache),
        ValueError, ["`da_next`", "(5, 3)", "(5, 10)"],
    ),
    "lstm dc_next vs cache": (
        lambda: jaxrnn.lstm_cell_backward(
            np.ones((5, 10), F), np.ones((2, 10), F), lstm_cell_cache
        ),
        ValueError, ["`dc_next`", "(2, 10)", "(5, 10)"],
    ),
    "gru x vs Wr": (
        lambda: jaxrnn.gru_forward(np.ones((2, 10, 4), F), a0, gp),
        ValueError, ["parameters['Wr']", "(5, 8)", "(5, 7)"],
    ),
    "gru da longer than x": (
        lambda: jaxrnn.gru_backward(np.ones((5, 10, 5), F), gcaches),
        ValueError, ["`da`", "5 time steps", "T_x = 4"],
    ),
    "gru cache of the wrong length": (
        lambda: jaxrnn.gru_cell_backward(np.ones((5, 10), F), cell_cache),
        TypeError, ["`cache`", "7 items"],
    ),
    # missing parameters
    "rnn missing Wya": (
        lambda: jaxrnn.rnn_forward(x, a0, without(p, "Wya")),
        KeyError, ["`parameters`", "'Wya'"],
    ),
    "lstm missing bo": (
        lambda: jaxrnn.lstm_cell_forward(lx[..., 0], la0, la0, without(lp, "bo")),
        KeyError, ["`parameters`", "'bo'"],
    ),
    # wrong types
    "parameters not a dict": (
        lambda: jaxrnn.rnn_forward(x, a0, [1, 2]), TypeError, ["`parameters`", "list"]
    ),
    "x a string": (lambda: jaxrnn.rnn_forward("abc", a0, p), TypeError, ["`x`", "<U3"]),
    "x complex": (
        lambda: jaxrnn.lstm_forward(lx.astype(np.complex64), la0, lp),
        TypeError, ["`x`", "complex64"],
    ),
    "caches not a pair": (
        lambda: jaxrnn.rnn_backward(np.ones((5, 10, 4), F), caches[0]),
        TypeError, ["`caches`", "pair"],
    ),
    "lstm caches given to rnn_backward": (
        lambda: jaxrnn.rnn_backward(np.ones((5, 10, 4), F), lcaches),
        TypeError, ["`caches[0]`", "4-tuple"],
    ),
    "cell cache of the wrong length": (
        lambda: jaxrnn.lstm_cell_backward(np.ones((5, 10), F), np.ones((5, 10), F), cell_cache),
        TypeError, ["`cache`", "10 items", "length 4"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_the_argument(case):
    call, error, fragments = CASES[case]
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # raised by jaxrnn's own checks, before any JAX tracing or compilation
    jax_dir = os.path.dirname(jax.__file__)
    frames = traceback.extract_tb(info.tb)
    assert not any(frame.filename.startswith(jax_dir) for frame in frames), message


def test_errors_are_raised_under_jit_too():
    with pytest.raises(ValueError, match="`a0`"):
        jax.jit(jaxrnn.rnn_forward)(x, np.ones((4, 10), F), p)
