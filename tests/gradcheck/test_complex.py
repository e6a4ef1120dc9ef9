"""check_backward on complex functions, in JAX's convention: what jax.vjp returns for a
complex input is g with Re(sum(w * df)) = Re(sum(g * dz)), no conjugate. A right backward
passes every opinion; a conjugated gradient fails and is located on its imaginary part; a
real input's gradient that comes back complex fails."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.gradcheck import check_backward


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def subject(rng):
    """A complex step, ``out = λ a + B x``: complex ``λ``, ``a``, real ``x``, ``B``."""
    lam = 0.9 * np.exp(1j * rng.uniform(0, 6, (4, 1)))
    a = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    inputs = {
        "lam": lam,
        "a": a,
        "x": rng.standard_normal((2, 3)),
        "B": rng.standard_normal((4, 2)),
    }
    w = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    return inputs, w


def forward(lam, a, x, B):
    return lam * a + B @ x, (lam, a, x, B)


def backward(dout, cache):
    """In JAX's convention: the transposes, without conjugates."""
    lam, a, x, B = cache
    return {"dlam": jnp.sum(dout * a, axis=1, keepdims=True), "da": dout * lam,
            "dx": B.T @ jnp.real(dout), "dB": jnp.real(dout) @ x.T}  # fmt: skip


def test_a_right_complex_backward_agrees_with_every_opinion():
    inputs, w = subject(np.random.default_rng(0))
    report = check_backward(forward, backward, inputs, w, finite_differences=True, order=2,
                            check_batched=True)  # fmt: skip
    assert report.ok, report
    assert {s.key for s in report.sources} == {"vjp", "fd", "adjoint", "batched", "second_order"}
    assert report.complex == ["dlam", "da"]
    assert "JAX's convention" in str(report)


@pytest.mark.parametrize("name", ["dlam", "da"])
def test_a_conjugated_gradient_fails_on_its_imaginary_part(name):
    inputs, w = subject(np.random.default_rng(1))

    def conjugated(dout, cache):
        gradients = backward(dout, cache)
        return gradients | {name: jnp.conj(gradients[name])}

    report = check_backward(forward, conjugated, inputs, w, finite_differences=True,
                            dims={"da": "n_a m", "dlam": "n_a 1"})  # fmt: skip
    assert report.failed == [name]
    row = next(r for r in report.rows if r.name == name)
    assert set(row.wrong_by) == {"vjp", "fd", "adjoint"}
    assert row.where.meaning.endswith("imaginary part")


def test_a_real_inputs_complex_gradient_fails():
    inputs, w = subject(np.random.default_rng(2))

    def complex_dx(dout, cache):
        gradients = backward(dout, cache)
        return gradients | {"dx": gradients["dx"] + 0j}

    report = check_backward(forward, complex_dx, inputs, w)
    assert report.failed == ["dx"]
    assert "complex" in next(r for r in report.rows if r.name == "dx").fault


def test_a_complex_outputs_cotangent_must_be_complex():
    inputs, w = subject(np.random.default_rng(3))
    with pytest.raises(TypeError, match="output 0 of the forward is complex.*cotangent must be"):
        check_backward(forward, backward, inputs, np.real(w))


def test_a_vjp_style_backward_and_a_real_loss_of_complex_values():
    """``L = sum |z|^2`` has jax.vjp 2 conj(z): the conjugate of the ascent direction."""
    rng = np.random.default_rng(4)
    z = rng.standard_normal(5) + 1j * rng.standard_normal(5)

    def loss(z):
        return jnp.sum(jnp.abs(z) ** 2)

    right = check_backward(loss, lambda inputs, ct: {"z": 2 * jnp.conj(inputs["z"]) * ct[0]},
                           {"z": z}, 1.0, style="vjp", finite_differences=True)  # fmt: skip
    assert right.ok, right
    ascent = check_backward(loss, lambda inputs, ct: {"z": 2 * inputs["z"] * ct[0]},
                            {"z": z}, 1.0, style="vjp")  # fmt: skip
    assert ascent.failed == ["dz"]


def test_a_numpy_complex_forward_is_judged_by_finite_differences():
    inputs, w = subject(np.random.default_rng(5))

    def numpy_forward(lam, a, x, B):
        out = np.asarray(lam) * np.asarray(a) + np.asarray(B) @ np.asarray(x)
        return out, (lam, a, x, B)

    def numpy_backward(dout, cache):
        lam, a, x, B = (np.asarray(v) for v in cache)
        return {"dlam": np.sum(dout * a, axis=1, keepdims=True), "da": dout * lam,
                "dx": B.T @ np.real(dout), "dB": np.real(dout) @ x.T}  # fmt: skip

    report = check_backward(numpy_forward, numpy_backward, inputs, w)
    assert report.ok, report
    assert [s.key for s in report.sources] == ["fd"]


def test_a_numpy_forward_writing_into_its_inputs_changes_none_of_the_callers():
    inputs, w = subject(np.random.default_rng(6))
    kept = {k: np.array(v) for k, v in inputs.items()}

    def writes(lam, a, x, B):
        a = np.asarray(a)
        out = np.asarray(lam) * a + np.asarray(B) @ np.asarray(x)
        a *= 2  # into what it was given
        return out, (lam, a / 2, x, B)

    def numpy_backward(dout, cache):
        lam, a, x, B = (np.asarray(v) for v in cache)
        return {"dlam": np.sum(dout * a, axis=1, keepdims=True), "da": dout * lam,
                "dx": B.T @ np.real(dout), "dB": np.real(dout) @ x.T}  # fmt: skip

    check_backward(writes, numpy_backward, inputs, w)
    for key, value in kept.items():
        np.testing.assert_array_equal(inputs[key], value, err_msg=key)
