"""Bidirectional layers and stacks: what they compute, and their manual backward against
jax.grad, with lengths."""

import jax
import numpy as np
import pytest

from jaxrnn import layers
from jaxrnn.testing import assert_gradients_close

LENGTHS = np.array([0, 5, 3])


def test_a_bidirectional_layer_concatenates_a_forward_and_a_reversed_run(cell, rng):
    layer = layers.Bidirectional(cell)
    (p,) = layers.random_parameters([layer], rng, 3, 4, np.float64)
    x, a0 = rng.standard_normal((3, 3, 5)), rng.standard_normal((8, 3))
    output = {k: v for k, v in cell.random_parameters(rng, 3, 4, 2, np.float64).items()
              if k in cell.output}  # the cell's forward predicts; the layer does not  # fmt: skip
    with jax.enable_x64(True):
        a, caches = layers.layer_forward(layer, x, a0, p, lengths=LENGTHS)
        forward = cell.forward(x, a0[:4], p["forward"] | output, lengths=LENGTHS)[0]
        backward = cell.forward(x, a0[4:], p["backward"] | output, lengths=LENGTHS, reverse=True)[0]
    np.testing.assert_allclose(a, np.concatenate([forward, backward]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("with_lengths", [False, True])
def test_a_stack_under_the_loss_gets_every_layers_gradient_by_hand(cell, with_lengths, rng):
    """A bidirectional layer, a reversed one and a plain one, the cross-entropy on top: the
    hand-derived gradient of every layer, chaining each layer's dx into the da below, equals
    jax.grad of the loss."""
    stack = [layers.Bidirectional(cell), layers.Layer(cell, reverse=True), cell]
    p = layers.random_parameters(stack, rng, 3, 4, np.float64)
    x = rng.standard_normal((3, 3, 5))
    a0s = [rng.standard_normal((8, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    output = {"Wy": rng.standard_normal((2, 4)), "by": rng.standard_normal((2, 1))}
    labels, lengths = rng.integers(0, 2, (3, 5)), LENGTHS if with_lengths else None
    with jax.enable_x64(True):
        J, manual = layers.stack_loss_and_gradients(stack, x, a0s, p, output, labels,
                                                    lengths=lengths)  # fmt: skip
        J_ref = layers.stack_cross_entropy(stack, x, a0s, p, output, labels, lengths=lengths)
        dx, da0s, dp, doutput = jax.grad(layers.stack_cross_entropy, argnums=(1, 2, 3, 4))(
            stack, x, a0s, p, output, labels, lengths=lengths
        )
    assert float(J) == pytest.approx(float(J_ref), rel=1e-13)
    assert_gradients_close({"dx": manual["dx"]}, {"dx": dx})
    assert_gradients_close({"dWy": manual["dWy"], "dby": manual["dby"]},
                           {"dWy": doutput["Wy"], "dby": doutput["by"]})  # fmt: skip
    for got, want_a0, want in zip(manual["layers"], da0s, dp, strict=True):
        assert_gradients_close({"da0": got.pop("da0")}, {"da0": want_a0})
        for key, value in got.items():  # "forward"/"backward" dictionaries, or "dWf"...
            if isinstance(value, dict):  # jax.grad's dictionaries come with sorted keys
                assert_gradients_close(value, {k: want[key][k[1:]] for k in value})
            else:
                assert_gradients_close({key: value}, {key: want[key[1:]]})


def test_layers_check_their_arguments(rng):
    from jaxrnn.cells import LSTM

    layer = layers.Bidirectional(LSTM)
    (p,) = layers.random_parameters([layer], rng, 3, 4)
    x = np.ones((3, 2, 5), np.float32)
    with pytest.raises(ValueError, match=r"`a0` has shape \(4, 2\); expected \(n_a\+n_a, m\)"):
        layers.layer_forward(layer, x, np.zeros((4, 2), np.float32), p)
    with pytest.raises(TypeError, match="'forward'"):
        layers.layer_forward(layer, x, np.zeros((8, 2), np.float32), p["forward"])
    with pytest.raises(TypeError, match="one entry per layer"):
        layers.stack_forward([layer, LSTM], x, [np.zeros((8, 2))], [p, p])


@pytest.mark.parametrize("da, fragment", [
    (np.ones((9, 3, 5)),
     r"`da` has shape \(9, 3, 5\); expected \(n_a\+n_a, m, T_da\) = \(8, 3, 5\)"),
    (1.0, r"`da` must have rank 3, shape \(n_a\+n_a, m, T_da\); got rank 0"),
])  # fmt: skip
def test_a_layer_backward_checks_da_against_its_caches(da, fragment, rng):
    from jaxrnn.cells import GRU

    layer = layers.Bidirectional(GRU)
    (p,) = layers.random_parameters([layer], rng, 3, 4)
    _, caches = layers.layer_forward(layer, np.ones((3, 3, 5), np.float32),
                                     np.zeros((8, 3), np.float32), p)  # fmt: skip
    with pytest.raises(ValueError, match=fragment):
        layers.layer_backward(layer, da, caches)


def test_a_stack_names_the_layer_whose_arguments_are_wrong(rng):
    from jaxrnn.cells import LSTM

    stack = [layers.Bidirectional(LSTM), layers.Layer(LSTM)]
    p = layers.random_parameters(stack, rng, 3, 4)
    p[1] = layers.random_parameters([LSTM], rng, 3, 4)[0]  # weights for n_x = 3, not 8
    x = np.ones((3, 2, 5), np.float32)
    with pytest.raises(ValueError) as info:
        layers.stack_forward(stack, x, [np.zeros((8, 2)), np.zeros((4, 2))], p)
    message = str(info.value)
    assert message.startswith("stack_forward, layer 1 (Layer): `layer 1's input (layer 0's "
                              "hidden states)` has shape (8, 2, 5)"), message  # fmt: skip
    assert "n_x = 3 from parameters[1]['Wf']" in message
