"""jax.grad through the custom-VJP sequence functions runs the manual backward = autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import sequence_inputs

from jaxrnn import custom_vjp
from jaxrnn.cells import CELLS
from jaxrnn.gradcheck.tolerances import AGREEMENT, scaled_error


def weights(rng, cell, n_a, n_y, m, T_x, lead=()):
    """Random weights for a scalar loss of every output: (a, y_pred[, c])."""
    shapes = [(n_a, m, T_x), (n_y, m, T_x)] + [(n_a, m, T_x)] * (len(cell.state) - 1)
    return [rng.standard_normal((*lead, *s)) for s in shapes]


def loss_of(function, w):
    return lambda x, a0, p: sum(
        jnp.sum(wi * o) for wi, o in zip(w, function(x, a0, p), strict=True)
    )


def plain(cell):
    """The documents' forward, differentiated by JAX's own autodiff."""
    return lambda x, a0, p: cell.forward(x, a0, p)[:-1]


def manual(cell, checkpoint=None):
    fn = getattr(custom_vjp, cell.name)
    return lambda x, a0, p: fn(x, a0, p, checkpoint=checkpoint)


def assert_trees_agree(got, want, dtype=np.float64):
    tol = AGREEMENT[np.dtype(dtype)]
    got_leaves, want_leaves = jax.tree.leaves(got), jax.tree.leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert g.shape == w.shape
        assert scaled_error(g, w, tol) <= 1


@pytest.mark.parametrize("checkpoint", [None, 2, "sqrt"])
@pytest.mark.parametrize("transform", ["plain", "jit"])
def test_grad_equals_autodiff(cell, transform, checkpoint, rng):
    x, a0, parameters, _ = sequence_inputs(cell, rng, 3, 4, 2, 3, 5)
    w = weights(rng, cell, 4, 2, 3, 5)
    wrap = jax.jit if transform == "jit" else (lambda f: f)
    with jax.enable_x64(True):
        got = wrap(jax.value_and_grad(loss_of(manual(cell, checkpoint), w), argnums=(0, 1, 2)))
        want = jax.value_and_grad(loss_of(plain(cell), w), argnums=(0, 1, 2))
        (value, grads), (want_value, want_grads) = got(x, a0, parameters), want(x, a0, parameters)
    assert float(value) == pytest.approx(float(want_value), rel=1e-13)
    assert sorted(grads[2]) == sorted(parameters)
    assert_trees_agree(grads, want_grads)


@pytest.mark.parametrize("checkpoint", [None, 2])
def test_grad_of_a_loss_of_one_output(cell, checkpoint, rng):
    """The outputs a loss leaves out reach the backward as symbolic zeros, which it skips:
    a loss of each output alone still gets every gradient right."""
    x, a0, parameters, _ = sequence_inputs(cell, rng, 3, 4, 2, 3, 5)
    w = weights(rng, cell, 4, 2, 3, 5)
    for i in range(len(w)):

        def loss(function, i=i):
            return lambda x, a0, p: jnp.sum(w[i] * function(x, a0, p)[i])

        with jax.enable_x64(True):
            got = jax.grad(loss(manual(cell, checkpoint)), argnums=(0, 1, 2))(x, a0, parameters)
            want = jax.grad(loss(plain(cell)), argnums=(0, 1, 2))(x, a0, parameters)
        assert_trees_agree(got, want)


def test_vmap_over_an_extra_batch_axis(cell, rng):
    B = 3
    x, a0, parameters, _ = sequence_inputs(cell, rng, 2, 3, 2, 4, 6)
    xs = np.stack([x + i for i in range(B)])
    w = weights(rng, cell, 3, 2, 4, 6)
    with jax.enable_x64(True):

        def per_example_grad(function):
            g = jax.grad(loss_of(function, w), argnums=2)
            return jax.jit(jax.vmap(g, in_axes=(0, None, None)))(xs, a0, parameters)

        got, want = per_example_grad(manual(cell)), per_example_grad(plain(cell))
    assert got[cell.output[0]].shape[0] == B
    assert_trees_agree(got, want)


def test_second_grad_reverse_over_reverse(rng):
    cell = CELLS["lstm"]
    x, a0, parameters, _ = sequence_inputs(cell, rng, 2, 3, 2, 2, 4)
    w = weights(rng, cell, 3, 2, 2, 4)

    def gradient_norm(function):
        def f(x):
            g = jax.grad(loss_of(function, w), argnums=2)(x, a0, parameters)
            return sum(jnp.sum(v**2) for v in jax.tree.leaves(g))

        return jax.grad(f)(x)

    with jax.enable_x64(True):
        assert_trees_agree(gradient_norm(manual(cell)), gradient_norm(plain(cell)))


def test_forward_over_the_manual_reverse_hessians_and_their_vector_products(rng):
    """jax.hessian is forward mode over the manual backward, which is plain JAX: it works,
    and so do Hessian-vector products by jax.jvp of jax.grad; both as JAX's own autodiff."""
    cell = CELLS["rnn"]
    x, a0, parameters, _ = sequence_inputs(cell, rng, 2, 3, 2, 2, 3)
    w = weights(rng, cell, 3, 2, 2, 3)
    v = rng.standard_normal(x.shape)

    def second(function):
        loss = lambda x: loss_of(function, w)(x, a0, parameters)  # noqa: E731
        hvp = jax.jvp(jax.grad(loss), (x,), (v,))[1]
        return {"hessian": jax.hessian(loss)(x), "hvp": hvp}

    with jax.enable_x64(True):
        assert_trees_agree(second(manual(cell)), second(plain(cell)))


def test_forward_mode_of_the_function_itself_is_a_clear_error(rng):
    cell = CELLS["rnn"]
    x, a0, parameters, _ = sequence_inputs(cell, rng, 2, 3, 2, 2, 4, dtype=np.float32)
    f = lambda x: custom_vjp.rnn(x, a0, parameters)[0]  # noqa: E731
    with pytest.raises(TypeError, match="forward-mode"):
        jax.jacfwd(f)(x)
    with pytest.raises(TypeError, match="forward-mode"):
        jax.jvp(f, (x,), (x,))


def test_the_manual_backward_is_the_one_that_runs(rng):
    """Count calls of the hand-derived step backward while jax.grad traces."""
    import dataclasses

    real = CELLS["lstm"]
    calls = []

    def counting(*args):
        calls.append(1)
        return real.fast.step_backward(*args)

    cell = dataclasses.replace(real, fast=real.fast._replace(step_backward=counting))
    x, a0, parameters, _ = sequence_inputs(cell, rng, 2, 3, 2, 2, 4, dtype=np.float32)
    w = weights(rng, cell, 3, 2, 2, 4)
    jax.grad(loss_of(plain(cell), w), argnums=2)(x, a0, parameters)
    assert calls == []  # JAX's autodiff never calls the hand-derived backward
    jax.grad(loss_of(lambda *a: custom_vjp.of(cell)(*a), w), argnums=2)(x, a0, parameters)
    assert calls  # the custom VJP does


@pytest.mark.parametrize(
    "bad, error", [(0, ValueError), (-3, ValueError), ("half", ValueError), (2.5, TypeError),
                   (True, TypeError)],
)  # fmt: skip
def test_bad_checkpoint_is_named(bad, error, rng):
    x, a0, parameters, _ = sequence_inputs(CELLS["gru"], rng, 2, 3, 2, 2, 4, dtype=np.float32)
    with pytest.raises(error, match="`checkpoint`"):
        custom_vjp.gru(x, a0, parameters, checkpoint=bad)


def test_checkpoint_takes_numpy_integers_and_says_how_to_jit_it(rng):
    x, a0, parameters, _ = sequence_inputs(CELLS["rnn"], rng, 2, 3, 2, 2, 6, dtype=np.float32)
    want = custom_vjp.rnn(x, a0, parameters, checkpoint=3)
    got = custom_vjp.rnn(x, a0, parameters, checkpoint=np.int64(3))
    np.testing.assert_array_equal(got[0], want[0])
    with pytest.raises(TypeError, match=r"static_argnames='checkpoint'"):
        jax.jit(custom_vjp.rnn)(x, a0, parameters, checkpoint=3)
    jitted = jax.jit(custom_vjp.rnn, static_argnames="checkpoint")
    np.testing.assert_array_equal(jitted(x, a0, parameters, checkpoint=3)[0], want[0])


def test_outputs_equal_the_documents_forward(cell, rng, dtype):
    x, a0, parameters, _ = sequence_inputs(cell, rng, 3, 4, 2, 3, 9, dtype=dtype)
    documents = cell.forward(x, a0, parameters)[:-1]
    for checkpoint in (None, 4):
        outputs = getattr(custom_vjp, cell.name)(x, a0, parameters, checkpoint=checkpoint)
        for got, want in zip(outputs, documents, strict=True):
            np.testing.assert_array_equal(got, want)


def test_checkpoint_padding_contributes_nothing_whatever_the_cell_computes_there(rng):
    """T_x = 5 in segments of 2 pads a sixth step; NORM is NaN on its zero input, and the
    gradient through it is that of the plain forward."""
    from user_cells import NORM

    x, a0, parameters, _ = sequence_inputs(NORM, rng, 3, 4, 2, 3, 5)
    w = weights(rng, NORM, 4, 2, 3, 5)
    with jax.enable_x64(True):
        checkpointed = lambda x, a0, p: custom_vjp.of(NORM)(x, a0, p, checkpoint=2)  # noqa: E731
        got = jax.grad(loss_of(checkpointed, w), argnums=(0, 1, 2))(x, a0, parameters)
        want = jax.grad(loss_of(plain(NORM), w), argnums=(0, 1, 2))(x, a0, parameters)
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(got))
    assert_trees_agree(got, want)


def test_of_takes_a_name_as_resolve_does_and_refuses_anything_else():
    assert custom_vjp.of("lstm") is custom_vjp.lstm
    for bad in (3, None):
        with pytest.raises(TypeError, match=r"custom_vjp.of: `cell` must be a cell name"):
            custom_vjp.of(bad)
    with pytest.raises(ValueError, match="unknown cell 'lstmm'"):
        custom_vjp.of("lstmm")
