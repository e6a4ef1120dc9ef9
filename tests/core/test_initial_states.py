"""Every state can be given: c0 beside a0 through the sequence functions, the custom VJP, the
loss and the layers, its gradient returned where it was given; and chunks of a sequence, each
starting from the last one's final state, are the whole sequence (truncated BPTT)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import sequence_inputs
from user_cells import MGU

import jaxrnn
from jaxrnn import autodiff, custom_vjp, layers, loss
from jaxrnn.cells import LSTM
from jaxrnn.layers import final_state
from jaxrnn.testing import assert_gradients_close

LENGTHS = np.array([0, 6, 3, 1, 5])


def inputs(rng):
    x, a0, parameters, da = sequence_inputs(LSTM, rng, 3, 4, 2, 5, 6)
    return x, a0, rng.standard_normal((4, 5)), parameters, da


@pytest.mark.parametrize("options", [{}, {"lengths": LENGTHS, "reverse": True}])
def test_c0_and_its_gradient_through_the_documents_functions(options, rng):
    x, a0, c0, parameters, da = inputs(rng)
    with jax.enable_x64(True):
        a, y, c, caches = jaxrnn.lstm_forward(x, a0, parameters, c0=c0, **options)
        manual = jaxrnn.lstm_backward(da, caches)
        listed = jaxrnn.lstm_backward(da, (list(caches[0]), caches[1]))  # the documents' list
        by_grad = autodiff.hidden_loss_gradients(LSTM, da, x, a0, parameters, c0=c0, **options)
        twin = autodiff.lstm_backward(da, caches)
        plain = jaxrnn.lstm_backward(da, jaxrnn.lstm_forward(x, a0, parameters, **options)[-1])
    assert list(manual)[:3] == ["dx", "da0", "dc0"] and list(listed) == list(manual)
    assert_gradients_close(manual, by_grad)
    assert_gradients_close(manual, twin)
    assert "dc0" not in plain  # the documents' dictionary, where c0 is not given
    if not options:  # the first step starts from c0
        with jax.enable_x64(True):
            c_next = jaxrnn.lstm_cell_forward(x[:, :, 0], a0, c0, parameters)[1]
        np.testing.assert_allclose(c[:, :, 0], c_next, rtol=1e-12)


@pytest.mark.parametrize("checkpoint", [None, 2])
def test_c0_through_the_custom_vjp_and_the_loss(checkpoint, rng):
    x, a0, c0, parameters, _ = inputs(rng)
    labels = rng.integers(0, 2, (5, 6))
    weights = [rng.standard_normal(s) for s in [(4, 5, 6), (2, 5, 6), (4, 5, 6)]]
    options = {"lengths": LENGTHS, "reverse": True}

    def of(outputs):
        return sum(jnp.sum(w * o) for w, o in zip(weights, outputs, strict=True))

    def by_hand(c0, p):
        return of(custom_vjp.lstm(x, a0, p, c0=c0, checkpoint=checkpoint, **options))

    def by_autodiff(c0, p):
        return of(jaxrnn.lstm_forward(x, a0, p, c0=c0, **options)[:-1])

    with jax.enable_x64(True):
        manual = jax.grad(by_hand, argnums=(0, 1))(c0, parameters)
        plain = jax.grad(by_autodiff, argnums=(0, 1))(c0, parameters)
        J, gradients = loss.loss_and_gradients("lstm", x, a0, parameters, labels, c0=c0, **options)
        dc0 = jax.grad(lambda c0: loss.cross_entropy("lstm", x, a0, parameters, labels, c0=c0,
                                                      **options))(c0)  # fmt: skip
    assert_gradients_close({"dc0": manual[0], **manual[1]}, {"dc0": plain[0], **plain[1]})
    assert_gradients_close({"dc0": gradients["dc0"]}, {"dc0": dc0})


def test_c0_in_a_bidirectional_layer_and_a_stack(rng):
    stack = [layers.Bidirectional(LSTM), layers.Layer(LSTM, reverse=True)]
    p = layers.random_parameters(stack, rng, 3, 4, np.float64)
    x = rng.standard_normal((3, 5, 6))
    a0s = [rng.standard_normal((8, 5)), rng.standard_normal((4, 5))]
    initial = [{"c0": rng.standard_normal((8, 5))}, {"c0": rng.standard_normal((4, 5))}]
    output = {"Wy": rng.standard_normal((2, 4)), "by": rng.standard_normal((2, 1))}
    labels = rng.integers(0, 2, (5, 6))
    with jax.enable_x64(True):
        J, manual = layers.stack_loss_and_gradients(stack, x, a0s, p, output, labels,
                                                    lengths=LENGTHS, initial=initial)  # fmt: skip
        dc0s = jax.grad(lambda i: layers.stack_cross_entropy(
            stack, x, a0s, p, output, labels, lengths=LENGTHS, initial=i))(initial)  # fmt: skip
    for got, want in zip(manual["layers"], dc0s, strict=True):
        assert_gradients_close({"dc0": got["dc0"]}, {"dc0": want["c0"]})


def test_a_state_a_cell_does_not_have_is_refused(rng):
    x, a0, parameters, _ = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'c0'; the initial states "
                                        r"after a0 it takes are none"):  # fmt: skip
        MGU.forward(x, a0, parameters, c0=a0)
    with pytest.raises(ValueError, match=r"`c0` has shape \(4, 3\)"):
        LSTM.forward(x, a0, LSTM.random_parameters(rng, 3, 4, 2), c0=a0[:, :3])


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_chunks_each_from_the_last_ones_final_state_are_the_whole_sequence(lengths, rng):
    """Truncated BPTT's forward: steps 0-2 from (a0, c0), then steps 3-5 from each example's
    state after its own last step of the first chunk, equal the whole forward."""
    x, a0, c0, parameters, _ = inputs(rng)
    with jax.enable_x64(True):
        a, _, c, _ = jaxrnn.lstm_forward(x, a0, parameters, c0=c0, lengths=lengths)
        first = None if lengths is None else np.minimum(lengths, 3)
        second = None if lengths is None else np.clip(lengths - 3, 0, 3)
        a1, _, c1, _ = jaxrnn.lstm_forward(x[..., :3], a0, parameters, c0=c0, lengths=first)
        a_mid, c_mid = final_state(a1, a0, first), final_state(c1, c0, first)
        a2, _, c2, _ = jaxrnn.lstm_forward(x[..., 3:], a_mid, parameters, c0=c_mid,
                                           lengths=second)  # fmt: skip
    np.testing.assert_allclose(np.concatenate([a1, a2], -1), a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.concatenate([c1, c2], -1), c, rtol=1e-12, atol=1e-14)
