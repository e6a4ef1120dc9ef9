"""The Equinox and Flax NNX modules: their gradients are the cell's manual backward and equal
``jax.grad`` of the same module run on the plain forward; ``jit``, ``vmap`` and Optax compose."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn import custom_vjp
from jaxrnn.cells import CELLS, GRU, LRU, RECURRENCES, lru

eqx = pytest.importorskip("equinox")
nnx = pytest.importorskip("flax.nnx")
optax = pytest.importorskip("optax")
from jaxrnn.interop import eqx as jaxrnn_eqx  # noqa: E402
from jaxrnn.interop import nnx as jaxrnn_nnx  # noqa: E402

M, T, N_X, N_A = 3, 5, 2, 4
LENGTHS = np.array([T, 2, 0])  # a whole sequence, a short one and an empty one


@pytest.fixture
def plain(monkeypatch):
    """Run the modules on the cell's plain forward, which ``jax.grad`` differentiates itself
    (``custom_vjp.of``'s outputs: the forward's, its caches left out)."""

    def of(cell):
        return lambda *args, **options: cell.forward(*args, **options)[:-1]

    def on_plain_forward():
        monkeypatch.setattr(custom_vjp, "of", of)

    return on_plain_forward


def batch(rng, cell):
    """Inputs, a carry, and weights for every output and final state: complex for a complex
    state (the LRU's), both parts drawn."""

    def state(*shape):
        drawn = rng.standard_normal(shape)
        return drawn + 1j * rng.standard_normal(shape) if cell.complex_state else drawn

    x = rng.standard_normal((M, T, N_X))
    carry = tuple(state(M, N_A) for _ in cell.state)
    return x, carry, state(M, T, N_A), [state(M, N_A) for _ in cell.state]


def weighted(outputs, carry, upstream, carry_weights):
    """A real loss of every output and every final state, with weights that make each count
    (for complex states, ``Re(sum(w * s))``: both parts count)."""
    return jnp.real(jnp.sum(upstream * outputs)) + sum(
        jnp.real(jnp.sum(w * s)) for w, s in zip(carry_weights, carry, strict=True)
    )


def eqx_loss(rnn, x, carry, upstream, weights):
    """The Equinox module over a batch: ``jax.vmap`` of its unbatched call."""
    outputs, final = jax.vmap(lambda x, s, n: rnn(x, s, length=n))(x, carry, LENGTHS)
    return weighted(outputs, final, upstream, weights)


def nnx_loss(rnn, x, carry, upstream, weights):
    final, outputs = rnn(x, carry, seq_lengths=LENGTHS)
    return weighted(outputs, final, upstream, weights)


# each cell once forward and once reversed, over the two modules (every case costs compilations);
# today's recurrences too, which are cells as the documents' are
EQX = [(cell, i % 2 == 1) for i, cell in enumerate([*CELLS.values(), *RECURRENCES.values()])]
NNX = [(cell, not reverse) for cell, reverse in EQX]


def ids(cases):
    return [f"{cell.name}-{'reverse' if reverse else 'forward'}" for cell, reverse in cases]


@pytest.mark.parametrize(("cell", "reverse"), EQX, ids=ids(EQX))
def test_equinox_gradients_are_autodiffs(cell, reverse, rng, plain):
    with jax.enable_x64(True):
        rnn = jaxrnn_eqx.RNN(cell, N_X, N_A, key=jax.random.key(0), reverse=reverse,
                             dtype=jnp.float64)  # fmt: skip
        data = batch(rng, cell)
        grad = eqx.filter_jit(eqx.filter_grad(eqx_loss))
        ours, loss = grad(rnn, *data), eqx_loss(rnn, *data)
        plain()
        want = jax.grad(eqx_loss)(rnn, *data)
        np.testing.assert_allclose(eqx_loss(rnn, *data), loss, rtol=1e-13)
    for key in cell.gradient_keys:
        np.testing.assert_allclose(ours.parameters[key], want.parameters[key], atol=1e-12,
                                   err_msg=key)  # fmt: skip


@pytest.mark.parametrize(("cell", "reverse"), NNX, ids=ids(NNX))
def test_nnx_gradients_are_autodiffs(cell, reverse, rng, plain):
    with jax.enable_x64(True):
        rnn = jaxrnn_nnx.RNN(cell, N_X, N_A, rngs=nnx.Rngs(0), reverse=reverse,
                             dtype=jnp.float64)  # fmt: skip
        x, carry, *rest = batch(rng, cell)
        grad = nnx.jit(nnx.grad(nnx_loss, argnums=(0, 1, 2)))
        (ours, dx, dcarry), loss = grad(rnn, x, carry, *rest), nnx_loss(rnn, x, carry, *rest)
        plain()
        graph, state = nnx.split(rnn)
        want, want_dx, want_dcarry = jax.grad(
            lambda state, x, carry: nnx_loss(nnx.merge(graph, state), x, carry, *rest),
            argnums=(0, 1, 2),
        )(state, x, carry)
        np.testing.assert_allclose(nnx_loss(rnn, x, carry, *rest), loss, rtol=1e-13)
    np.testing.assert_allclose(dx, want_dx, atol=1e-12)
    for got, expected in zip(dcarry, want_dcarry, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-12)
    for key in cell.gradient_keys:
        np.testing.assert_allclose(ours["parameters"][key][...], want["parameters"][key][...],
                                   atol=1e-12, err_msg=key)  # fmt: skip


def test_the_modules_run_the_cells_manual_backward(rng):
    """A cell whose backward doubles its parameters' gradients doubles the modules': they
    run it."""
    parameter_gradients = {f"d{k}" for k in GRU.gradient_keys}

    def doubled(*args):
        g = GRU.cell_backward(*args)
        return {k: 2 * v if k in parameter_gradients else v for k, v in g.items()}

    wrong = dataclasses.replace(GRU, name="gru_doubled", cell_backward=doubled)
    data = batch(rng, GRU)
    for module in (
        lambda cell: jaxrnn_eqx.RNN(cell, N_X, N_A, key=jax.random.key(0)),
        lambda cell: jaxrnn_nnx.RNN(cell, N_X, N_A, rngs=nnx.Rngs(0)),
    ):
        right, doubled_ = module(GRU), module(wrong)
        loss = eqx_loss if isinstance(right, eqx.Module) else nnx_loss
        grad = eqx.filter_grad(loss) if isinstance(right, eqx.Module) else nnx.grad(loss)
        g, h = grad(right, *data), grad(doubled_, *data)
        np.testing.assert_allclose(loss(right, *data), loss(doubled_, *data), rtol=1e-6)
        for key in GRU.gradient_keys:
            np.testing.assert_allclose(h.parameters[key][...], 2 * g.parameters[key][...],
                                       rtol=1e-5, atol=1e-6, err_msg=key)  # fmt: skip


def test_nnx_module_vmaps_and_jits(rng):
    """``nnx.vmap`` over a leading axis of batches gives each batch's own call."""
    rnn = jaxrnn_nnx.RNN(GRU, N_X, N_A, rngs=nnx.Rngs(0))
    xs = jnp.asarray(rng.standard_normal((2, M, T, N_X)), jnp.float32)
    each = nnx.jit(nnx.vmap(lambda rnn, x: rnn(x, seq_lengths=LENGTHS), in_axes=(None, 0)))
    carry, outputs = each(rnn, xs)
    for i in range(2):
        one_carry, one = rnn(xs[i], seq_lengths=LENGTHS)
        np.testing.assert_allclose(outputs[i], one, atol=1e-6)
        np.testing.assert_allclose(carry[0][i], one_carry[0], atol=1e-6)


def teacher(rng):
    """Inputs and targets from a fixed GRU: something the modules can learn."""
    x = jnp.asarray(rng.standard_normal((M, T, N_X)), jnp.float32)
    _, target = jaxrnn_nnx.RNN(GRU, N_X, N_A, rngs=nnx.Rngs(7))(x)
    return x, target


def test_optax_trains_the_equinox_module(rng):
    x, target = teacher(rng)
    rnn = jaxrnn_eqx.RNN(GRU, N_X, N_A, key=jax.random.key(0))
    optimizer = optax.adam(3e-2)
    state = optimizer.init(eqx.filter(rnn, eqx.is_array))

    @eqx.filter_jit
    def step(rnn, state):
        loss, g = eqx.filter_value_and_grad(
            lambda rnn: jnp.mean((jax.vmap(rnn)(x)[0] - target) ** 2)
        )(rnn)
        updates, state = optimizer.update(g, state)
        return eqx.apply_updates(rnn, updates), state, loss

    losses = []
    for _ in range(30):
        rnn, state, loss = step(rnn, state)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0], losses


def test_optax_trains_the_nnx_module(rng):
    x, target = teacher(rng)
    rnn = jaxrnn_nnx.RNN(GRU, N_X, N_A, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(rnn, optax.adam(3e-2), wrt=nnx.Param)

    @nnx.jit
    def step(rnn, optimizer):
        loss, g = nnx.value_and_grad(lambda rnn: jnp.mean((rnn(x)[1] - target) ** 2))(rnn)
        optimizer.update(rnn, g)
        return loss

    losses = [float(step(rnn, optimizer)) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0], losses


def test_the_modules_name_their_own_arguments(rng):
    """Errors in the modules' own terms (state, n_a, inputs, initial_carry), with the shapes
    the caller gave, before the cell sees anything."""
    LSTM, RNN, NnxRNN = CELLS["lstm"], jaxrnn_eqx.RNN, jaxrnn_nnx.RNN
    lstm = RNN(LSTM, 3, 4, key=jax.random.key(0))
    cases = [
        (
            lambda: lstm(jnp.ones((5, 3)), state=(jnp.zeros(4),)),
            TypeError,
            "`state` must be a tuple of one (n_a,) array per state of the cell, (a, c)",
        ),
        (lambda: lstm(jnp.ones((2, 5, 3))), ValueError, "`x` must have rank 2, shape (T, n_x)"),
        (lambda: lstm(jnp.ones((5, 2))), ValueError, "`x` has n_x = 2; the module's n_x is 3"),
        (
            lambda: RNN(LSTM, 3, 0, key=jax.random.key(0)),
            ValueError,
            "`n_a` must be at least 1; got 0",
        ),
    ]
    nnx_lstm = NnxRNN(LSTM, 3, 4, rngs=nnx.Rngs(0))
    carry = (jnp.zeros((4, 2)), jnp.zeros((4, 2)))
    cases += [
        (
            lambda: nnx_lstm(jnp.ones((5, 3))),
            ValueError,
            "`inputs` must have rank 3, shape (m, T, n_x); got rank 2, shape (5, 3)",
        ),
        (
            lambda: nnx_lstm(jnp.ones((2, 5, 3)), initial_carry=carry),
            ValueError,
            "`initial_carry[0]` has shape (4, 2); expected (m, n_a) = (2, 4)",
        ),
        (
            lambda: nnx_lstm(jnp.ones((2, 5, 3)), initial_carry=carry[:1]),
            TypeError,
            "`initial_carry` must be a tuple of one (m, n_a) array per state",
        ),
    ]
    for call, error, fragment in cases:
        with pytest.raises(error) as info:
            call()
        assert fragment in str(info.value), str(info.value)


def test_the_lru_modules_start_where_the_paper_does():
    """Both modules initialise by the cell's own ``init``: the LRU's eigenvalues on its ring."""
    modules = [jaxrnn_eqx.RNN(LRU, N_X, N_A, key=jax.random.key(1)).parameters,
               {k: v[...] for k, v in jaxrnn_nnx.RNN(LRU, N_X, N_A, rngs=nnx.Rngs(1))
                .parameters.items()}]  # fmt: skip
    for parameters in modules:
        radius = np.abs(np.asarray(lru.eigenvalues(parameters)[0]))
        assert radius.min() >= 0.4 - 1e-6 and radius.max() <= 0.99 + 1e-6
