"""jit gives the plain call's results; the sequence functions are scans, not Python loops."""

import jax
import numpy as np
import pytest
from helpers import sequence_inputs

import jaxrnn
from jaxrnn import autodiff
from jaxrnn._core import layout
from jaxrnn.cells import CELLS
from jaxrnn.gradcheck.tolerances import AGREEMENT, scaled_error


def sub_jaxprs(params):
    """The jaxprs inside an equation's parameters (a jit's body, a scan's body, ...)."""
    for value in params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if hasattr(item, "eqns"):
                yield item
            elif hasattr(item, "jaxpr") and hasattr(item.jaxpr, "eqns"):
                yield item.jaxpr


def equation_count(jaxpr):
    """How many equations a jaxpr holds, sub-jaxprs included."""
    return sum(1 + sum(equation_count(sub) for sub in sub_jaxprs(eqn.params)) for eqn in jaxpr.eqns)


def primitives(jaxpr):
    """Every primitive name in a jaxpr, sub-jaxprs (jit, scan bodies) included."""
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for sub in sub_jaxprs(eqn.params):
            names |= primitives(sub)
    return names


def test_jit_equals_plain_call(cell, dtype, rng):
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, T_da=4, dtype=dtype)
    plain = cell.forward(x, a0, parameters)
    jitted = jax.jit(cell.forward)(x, a0, parameters)
    for got, want in zip(jax.tree.leaves(jitted), jax.tree.leaves(plain), strict=True):
        np.testing.assert_array_equal(got, want)
    plain_gradients = cell.backward(da, plain[-1])
    jitted_gradients = jax.jit(cell.backward)(da, jitted[-1])
    for key, want in plain_gradients.items():
        np.testing.assert_array_equal(jitted_gradients[key], want)


def test_sequence_functions_are_scans(cell, rng):
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    forward = jax.make_jaxpr(cell.forward)(x, a0, parameters)
    assert "scan" in primitives(forward.jaxpr)
    caches = cell.forward(x, a0, parameters)[-1]
    backward = jax.make_jaxpr(cell.backward)(da, caches)
    assert "scan" in primitives(backward.jaxpr)
    # one scan per direction, whatever T_x is: time is not unrolled into the program
    longer = sequence_inputs(cell, rng, 3, 4, 2, 5, 60, dtype=np.float32)
    longer_forward = jax.make_jaxpr(cell.forward)(*longer[:3])
    assert equation_count(longer_forward.jaxpr) == equation_count(forward.jaxpr)


def test_cell_functions_jit(cell, dtype, rng):
    from helpers import cell_inputs

    xt, state, parameters, dstate = cell_inputs(cell, rng, 3, 4, 2, 5, dtype=dtype)
    # jit fuses the elementwise work differently from op-by-op dispatch: rounding differs
    tol = AGREEMENT[dtype]
    plain = cell.cell_forward(xt, *state, parameters)
    jitted = jax.jit(cell.cell_forward)(xt, *state, parameters)
    for got, want in zip(jax.tree.leaves(jitted), jax.tree.leaves(plain), strict=True):
        assert scaled_error(got, want, tol) <= 1
    gradients = jax.jit(cell.cell_backward)(*dstate, plain[-1])
    for key, want in cell.cell_backward(*dstate, plain[-1]).items():
        assert scaled_error(gradients[key], want, tol) <= 1, key


def test_caches_index_like_the_documents_list(rng):
    cell = jaxrnn.cells.LSTM
    x, a0, parameters, _ = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    a, y, c, (steps, x_cached) = cell.forward(x, a0, parameters)
    assert len(steps) == 6
    a1, c1, a_prev, c_prev, f1, i1, cc1, o1, x1, params = steps[0]  # as lstm_backward unpacks
    np.testing.assert_array_equal(a_prev, a0)
    np.testing.assert_array_equal(c_prev, np.zeros_like(a0))
    np.testing.assert_array_equal(steps[-1][0], a[:, :, -1])
    np.testing.assert_array_equal(steps[2][1], c[:, :, 2])
    assert [step[8].shape for step in steps] == [(3, 5)] * 6
    assert set(params) == set(parameters)


def test_backward_accepts_the_documents_list_of_caches(cell, rng):
    from jaxrnn.course import reference as numpy_reference

    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6, T_da=5)
    with jax.enable_x64(True):
        numpy_caches = getattr(numpy_reference, cell.forward.__name__)(x, a0, parameters)[-1]
        from_list = cell.backward(da, numpy_caches)
        from_scan = cell.backward(da, cell.forward(x, a0, parameters)[-1])
    assert list(from_list) == list(from_scan)
    for key in from_scan:
        np.testing.assert_allclose(from_list[key], from_scan[key], rtol=1e-12, atol=1e-14)


FAST_CELLS = {name: cell for name, cell in CELLS.items() if cell.fast is not None}


@pytest.mark.parametrize("cell", list(FAST_CELLS.values()), ids=list(FAST_CELLS))
def test_large_product_form_agrees_with_autodiff(cell, monkeypatch, rng):
    """Large input-gradient products take another form (``layout.transposed_product``); forced
    on a small problem, the sequence backward still equals JAX's autodiff. Only a fast path has
    that form: a cell without one (the reset-after GRU) has none to force."""
    x, a0, parameters, da = sequence_inputs(cell, rng, 3, 4, 2, 5, 6)
    with jax.enable_x64(True):
        want = autodiff.backward_twin(cell)(da, cell.forward(x, a0, parameters)[-1])
        monkeypatch.setattr(layout, "LARGE_PRODUCT", 0)
        jax.clear_caches()  # trace the backward again, now with the large form
        try:
            lowered = jax.jit(cell.backward).lower(da, cell.forward(x, a0, parameters)[-1])
            got = cell.backward(da, cell.forward(x, a0, parameters)[-1])
        finally:
            jax.clear_caches()
    assert "optimization_barrier" in lowered.as_text()
    tol = AGREEMENT[np.dtype("float64")]
    for key in want:
        assert scaled_error(got[key], want[key], tol) <= 1, key


def test_no_retracing_across_calls_with_new_values(cell, rng):
    """chex.assert_max_traces: the jitted forward, backward, custom-VJP gradient and loss trace
    once per shape and dtype, whatever the values: NumPy or JAX arrays, parameters as a fresh
    dictionary in another key order, caches rebuilt. Called without jit, the functions' own
    jitted cores compile once too."""
    import chex
    import jax.numpy as jnp

    from jaxrnn import custom_vjp, loss
    from jaxrnn._core import cell as cell_module

    chex.clear_trace_counter()
    once = lambda f: jax.jit(chex.assert_max_traces(f, n=1))  # noqa: E731
    forward = once(lambda x, a0, p: cell.forward(x, a0, p))
    backward = once(lambda da, caches: cell.backward(da, caches))
    grad = once(lambda p, x, a0: jax.grad(lambda p: jnp.sum(custom_vjp.of(cell)(x, a0, p)[0]))(p))
    loss_and_gradients = once(lambda x, a0, p, y: loss.loss_and_gradients(cell, x, a0, p, y))
    sizes = []
    for i in range(3):
        x, a0, parameters, da = sequence_inputs(cell, np.random.default_rng(i), 3, 4, 2, 5, 6,
                                                dtype=np.float32)  # fmt: skip
        labels = np.random.default_rng(i).integers(0, 2, (5, 6))
        if i == 1:  # JAX arrays
            x, a0, da = jnp.asarray(x), jnp.asarray(a0), jnp.asarray(da)
            parameters = {k: jnp.asarray(v) for k, v in parameters.items()}
        if i == 2:  # a fresh dictionary, keys in reverse order
            parameters = dict(reversed(list(parameters.items())))
        caches = forward(x, a0, parameters)[-1]
        backward(da, caches)
        grad(parameters, x, a0)
        loss_and_gradients(x, a0, parameters, labels)
        cell.backward(da, cell.forward(x, a0, parameters)[-1])  # eagerly: the jitted cores
        sizes.append(
            (cell_module._forward._cache_size(), cell_module.jitted_backward._cache_size())
        )
    assert sizes[0] == sizes[1] == sizes[2]
