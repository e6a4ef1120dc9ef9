"""Weights in and out: jaxrnn on weights converted from PyTorch's and Flax's modules gives
their outputs and gradients, in float64; the conversions go back and forth exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn import layers
from jaxrnn.cells import GRU, GRU_RESET_AFTER, LSTM
from jaxrnn.interop import weights
from jaxrnn.layers import Layer

torch = pytest.importorskip("torch")
T, M, N_X, N_A = 5, 3, 3, 4


def pulled_back(cell, gradients):
    """Our gradients as PyTorch's parameters': the conversion is linear, so its transpose;
    a bias PyTorch splits in two gets the whole gradient on either side (the reset-after GRU's
    candidate keeps its two)."""
    W_ih, W_hh, b_ih, b_hh = weights.to_torch_layer(cell, {k[1:]: v for k, v in gradients.items()})
    b_hh = b_ih.copy() if cell is not GRU_RESET_AFTER else np.concatenate(
        [b_ih[: 2 * N_A], b_hh[2 * N_A :]]
    )  # fmt: skip
    return W_ih, W_hh, b_ih, b_hh


@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True}],
                         ids=["one layer", "stacked bidirectional"])  # fmt: skip
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_pytorch_outputs_and_gradients(kind, options, rng):
    torch.manual_seed(0)
    module = getattr(torch.nn, kind)(N_X, N_A, dtype=torch.float64, **options)
    stack, parameters = weights.from_torch(module)
    x = rng.standard_normal((T, M, N_X))
    upstream = rng.standard_normal((T, M, N_A * (2 if options else 1)))
    x_torch = torch.tensor(x, requires_grad=True)
    out, _ = module(x_torch)
    (out * torch.tensor(upstream)).sum().backward()
    a0s = [np.zeros((N_A * (2 if options else 1), M)) for _ in stack]
    with jax.enable_x64(True):
        a, caches = layers.stack_forward(stack, x.transpose(2, 1, 0), a0s, parameters)
        gradients = layers.stack_backward(stack, upstream.transpose(2, 1, 0), caches)
    np.testing.assert_allclose(np.asarray(a).transpose(2, 1, 0), out.detach().numpy(), atol=1e-13)
    np.testing.assert_allclose(np.asarray(gradients["dx"]).transpose(2, 1, 0),
                               x_torch.grad.numpy(), atol=1e-13)  # fmt: skip
    cell = stack[0].cell if isinstance(stack[0], layers.Layer) else stack[0].forward
    for i, g in enumerate(gradients["layers"]):
        directions = [(g, "")] if not options else [(g["forward"], ""), (g["backward"], "_reverse")]
        for direction, suffix in directions:
            named = {k: v for k, v in direction.items() if k != "da0"}
            for name, want in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                  pulled_back(cell, named), strict=True):  # fmt: skip
                got = getattr(module, f"{name}_l{i}{suffix}").grad.numpy()
                np.testing.assert_allclose(want, got, atol=1e-12, err_msg=f"{name}_l{i}{suffix}")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_pytorch_weights_go_back_and_forth_exactly(kind):
    torch.manual_seed(1)
    module = getattr(torch.nn, kind)(N_X, N_A, num_layers=2, dtype=torch.float64)
    stack, parameters = weights.from_torch(module)
    back = weights.from_torch(weights.to_torch(stack, parameters))[1]
    for p, q in zip(parameters, back, strict=True):
        assert p.keys() == q.keys() and all(np.array_equal(p[k], q[k]) for k in p)
    x = torch.randn(T, M, N_X, dtype=torch.float64)
    np.testing.assert_allclose(weights.to_torch(stack, parameters)(x)[0].detach(),
                               module(x)[0].detach(), atol=1e-14)  # fmt: skip


def test_what_cannot_map_is_a_clear_error():
    with pytest.raises(ValueError, match="the course's GRU .* resets c_prev before"):
        weights.to_torch(GRU, GRU.init(jax.random.key(0), N_X, N_A, 1))
    with pytest.raises(ValueError, match="nonlinearity is relu"):
        weights.from_torch(torch.nn.RNN(N_X, N_A, nonlinearity="relu"))
    with pytest.raises(ValueError, match="one kind of cell"):
        weights.to_torch([LSTM, GRU_RESET_AFTER], [{}, {}])
    p = GRU_RESET_AFTER.init(jax.random.key(0), N_X, N_A, 1)
    with pytest.raises(ValueError, match="no bias inside its reset gate"):
        weights.to_flax(GRU_RESET_AFTER, p | {"bcc": jnp.ones((N_A, 1))})
    # a stack whose layers' hidden sizes differ: jaxrnn's error, not torch's state_dict's
    sizes = [LSTM.random_parameters(np.random.default_rng(0), *s, 1) for s in ((3, 4), (4, 5))]
    with pytest.raises(ValueError, match="layer 1 has n_a = 5 and 4 inputs; expected n_a = 4"):
        weights.to_torch([Layer(LSTM), Layer(LSTM)], sizes)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_pytorch_modules_keep_the_parameters_dtype(dtype):
    p = LSTM.init(jax.random.key(0), N_X, N_A, 1, jnp.dtype(dtype))
    module = weights.to_torch(LSTM, p)
    assert module.weight_hh_l0.dtype == getattr(torch, dtype)
    back = weights.from_torch(module.float())[1][0]  # every one of theirs is a float32 too
    assert all(np.array_equal(np.asarray(p[k], np.float32), back[k]) for k in back)
    with pytest.raises(TypeError, match="parameters of dtype int32"):
        weights.to_torch(LSTM, {k: jnp.zeros(v.shape, jnp.int32) for k, v in p.items()})


nnx = pytest.importorskip("flax.nnx")


@pytest.mark.parametrize("kind", ["SimpleCell", "LSTMCell", "OptimizedLSTMCell", "GRUCell"])
def test_flax_outputs_and_gradients(kind, rng):
    with jax.enable_x64(True):
        flax_cell = getattr(nnx, kind)(N_X, N_A, rngs=nnx.Rngs(0), param_dtype=jnp.float64,
                                       dtype=jnp.float64)  # fmt: skip
        cell, parameters = weights.from_flax(flax_cell)
        output = {cell.output[0]: np.zeros((1, N_A)), cell.output[1]: np.zeros((1, 1))}
        x, upstream = rng.standard_normal((M, T, N_X)), rng.standard_normal((M, T, N_A))

        def flax_loss(flax_cell, x):
            return jnp.sum(upstream * nnx.RNN(flax_cell)(x))

        def our_loss(p, x):
            a = cell.forward(jnp.transpose(x, (2, 0, 1)), jnp.zeros((N_A, M)), p | output)[0]
            return jnp.sum(upstream * jnp.transpose(a, (1, 2, 0)))

        grads, want_dx = nnx.grad(flax_loss, argnums=(0, 1))(flax_cell, x)
        dp, dx = jax.grad(our_loss, argnums=(0, 1))(parameters, x)
        np.testing.assert_allclose(our_loss(parameters, x), flax_loss(flax_cell, x), rtol=1e-13)
        np.testing.assert_allclose(dx, want_dx, atol=1e-13)
        # Flax's parameter gradients, converted as its weights are: the conversion only
        # transposes, reorders and negates, so it maps a gradient as it maps a weight
        nnx.update(flax_cell, grads)
        _, converted = weights.from_flax(flax_cell)
    assert converted.keys() == dp.keys()
    for key in dp.keys() - ({"bcc"} if kind == "GRUCell" else set()):  # Flax's bcc is fixed at 0
        np.testing.assert_allclose(dp[key], converted[key], atol=1e-12, err_msg=key)


@pytest.mark.parametrize("kind", ["SimpleCell", "LSTMCell", "OptimizedLSTMCell", "GRUCell"])
def test_flax_weights_go_back_and_forth_exactly(kind):
    flax_cell = getattr(nnx, kind)(N_X, N_A, rngs=nnx.Rngs(1))
    cell, parameters = weights.from_flax(flax_cell)
    back = weights.to_flax(cell, parameters, optimized=kind != "LSTMCell")
    assert type(back).__name__ == kind
    again = weights.from_flax(back)[1]
    assert all(np.array_equal(parameters[k], again[k]) for k in parameters)


@pytest.mark.parametrize("kind, option, function", [
    ("SimpleCell", "activation_fn", "relu"),
    ("LSTMCell", "gate_fn", "hard_sigmoid"),
    ("OptimizedLSTMCell", "activation_fn", "relu"),
    ("GRUCell", "activation_fn", "relu"),
])  # fmt: skip
def test_flax_cells_of_other_activations_are_refused(kind, option, function):
    flax_cell = getattr(nnx, kind)(N_X, N_A, rngs=nnx.Rngs(0), **{option: getattr(nnx, function)})
    with pytest.raises(ValueError, match=f"{option} is {function}, not"):
        weights.from_flax(flax_cell)
    same = getattr(nnx, kind)(N_X, N_A, rngs=nnx.Rngs(0), **{option: lambda x: jnp.tanh(x)})
    if option == "activation_fn":  # the same function, written otherwise: converted
        assert weights.from_flax(same)[0] is not None
