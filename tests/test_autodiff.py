"""The autodiff twins take exactly the manual functions' arguments and refuse the same calls."""

import inspect

import numpy as np
import pytest
from helpers import cell_inputs, sequence_inputs

from jaxrnn import autodiff


def test_twins_have_the_manual_signatures(cell):
    for manual, twin in [
        (cell.cell_backward, autodiff.cell_backward_twin(cell)),
        (cell.backward, autodiff.backward_twin(cell)),
    ]:
        assert inspect.signature(twin) == inspect.signature(manual)
        assert twin.__name__ == manual.__name__
    assert getattr(autodiff, cell.cell_backward.__name__).__name__ == cell.cell_backward.__name__


def test_a_missing_cotangent_is_refused_by_both(cell, rng):
    """autodiff.lstm_cell_backward(da_next, cache) took dc_next = 0, and
    autodiff.rnn_cell_backward(cache) returned zeros; the manual functions refuse both."""
    xt, state, parameters, dstate = cell_inputs(cell, rng, 3, 4, 2, 5, dtype=np.float32)
    cache = cell.cell_forward(xt, *state, parameters)[-1]
    twin = autodiff.cell_backward_twin(cell)
    for args in [(cache,), (*dstate[:-1], cache), (*dstate, cache, cache)]:
        if len(args) == len(dstate) + 1:
            continue
        for function in (cell.cell_backward, twin):
            with pytest.raises(TypeError, match=cell.cell_backward.__name__):
                function(*args)


def test_sequence_twin_refuses_what_the_manual_refuses(cell, rng):
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    caches = cell.forward(x, a0, parameters)[-1]
    twin = autodiff.backward_twin(cell)
    for bad in [da[:1], da[..., None], np.concatenate([da, da], axis=-1)]:
        errors = []
        for function in (cell.backward, twin):
            with pytest.raises(ValueError) as info:
                function(bad, caches)
            errors.append(str(info.value))
        assert errors[0] == errors[1] and "`da`" in errors[0]
