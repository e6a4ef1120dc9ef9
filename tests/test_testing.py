"""jaxrnn.testing: assertions that pass a correct backward, fail a wrong one with the checker's
table, and work inside chex variants."""

import chex
import numpy as np
import pytest
from absl.testing import parameterized
from user_cells import MGU, mgu_cell_backward

import jaxrnn
from jaxrnn.problems import cell_problem
from jaxrnn.testing import assert_backward_agrees, assert_cell_agrees, assert_gradients_close


def without_transpose(da_next, cache):
    """eq. (8) with W_aa where W_aa^T belongs"""
    a_next, a_prev, xt, p = cache
    return jaxrnn.rnn_cell_backward(da_next, cache) | {
        "da_prev": p["Waa"] @ (da_next * (1 - a_next**2))
    }


def test_a_correct_backward_passes_and_returns_the_report():
    reports = assert_cell_agrees("lstm")
    assert [r.ok for r in reports] == [True, True] and reports[0].dtype == "float64"
    assert all(row["fd"].settled for r in reports for row in r.rows)  # float64: with FD
    assert assert_cell_agrees(MGU, dtype=np.float32)[1].dtype == "float32"


def test_a_wrong_backward_fails_with_the_checkers_table():
    with pytest.raises(AssertionError) as info:
        assert_cell_agrees("rnn", cell_backward=without_transpose, levels=("cell",))
    message = str(info.value)
    assert message.startswith("rnn_cell_backward disagrees with jax.vjp: da_prev\n")
    assert "max rel err" in message and "WRONG: da_prev" in message
    with pytest.raises(AssertionError, match="disagrees with jax.vjp: dbc"):
        assert_cell_agrees(
            MGU, cell_backward=lambda da, c: mgu_cell_backward(da, c) | {"dbc": 0 * da[:, :1]}
        )


def test_gradients_close_compares_at_the_dtypes_tolerance():
    want = {
        "dx": np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
        "db": np.ones((3, 1), np.float32),
    }
    assert_gradients_close({k: v * (1 + 1e-5) for k, v in want.items()}, want)  # within 2e-4
    with pytest.raises(AssertionError, match="dx"):
        assert_gradients_close({**want, "dx": want["dx"] + 1e-3}, want)
    with pytest.raises(AssertionError, match="db"):
        assert_gradients_close({**want, "db": want["db"].astype(np.float64)}, want)
    with pytest.raises(AssertionError, match="keys"):
        assert_gradients_close({"db": want["db"]}, want)
    chex.disable_asserts()
    try:
        assert_gradients_close({**want, "dx": want["dx"] + 1.0}, want)  # off, as chex's are
    finally:
        chex.enable_asserts()


class InsideChexVariants(chex.TestCase):
    """The assertion takes the backward a variant wraps: jitted, or fed NumPy arrays."""

    @chex.variants(with_jit=True, without_jit=True, without_device=True)
    @parameterized.parameters("cell", "sequence")
    def test_variants(self, level):
        forward, backward, inputs, cotangents = cell_problem("gru", level, np.float32)
        assert_backward_agrees(forward, self.variant(backward), inputs, cotangents)

        def wrong(*a):
            return backward(*a) | {"dbu": 2 * backward(*a)["dbu"]}

        with self.assertRaisesRegex(AssertionError, "disagrees with jax.vjp: dbu"):
            assert_backward_agrees(forward, self.variant(wrong), inputs, cotangents)


def test_it_needs_chex_and_says_so(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_chex(name, *args, **kwargs):
        if name == "chex":
            raise ImportError("no chex here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_chex)
    with pytest.raises(ImportError, match=r"pip install 'jaxrnn\[test\]'"):
        assert_gradients_close({"d": np.ones(1)}, {"d": np.ones(1)})


def test_a_cell_backward_handed_in_is_checked_at_every_level_asked_for():
    """dc_prev 1.5 times too large: wrong in jaxrnn's reverse scan at every sequence level, as
    the documents' loop would run it; a sequence backward is refused where layers run none."""

    def wrong(da_next, dc_next, cache):
        gradients = jaxrnn.lstm_cell_backward(da_next, dc_next, cache)
        return gradients | {"dc_prev": 1.5 * gradients["dc_prev"]}

    for level in ("lengths", "stacked"):  # a sequence level, and one of layers
        with pytest.raises(AssertionError, match="over your lstm_cell_backward disagrees"):
            assert_cell_agrees("lstm", cell_backward=wrong, levels=(level,), dtype=np.float32)
    for level in ("bidirectional", "stacked"):
        with pytest.raises(ValueError, match="`backward` is a sequence backward"):
            assert_cell_agrees("lstm", backward=jaxrnn.lstm_backward, levels=(level,))
    reports = assert_cell_agrees("rnn", cell_backward=jaxrnn.rnn_cell_backward,
                                 backward=jaxrnn.rnn_backward, dtype=np.float32)  # fmt: skip
    assert len(reports) == 3  # the cell; the sequence, by each function handed in


def test_gradients_close_compares_by_key():
    """A dictionary that went through jax.jit comes back with its keys sorted."""
    import jax

    _, backward, inputs, (da,) = cell_problem("gru", "sequence", np.float32)
    caches = jaxrnn.gru_forward(**inputs)[-1]
    jitted, plain = jax.jit(jaxrnn.gru_backward)(da, caches), jaxrnn.gru_backward(da, caches)
    assert list(jitted) != list(plain)
    assert_gradients_close(jitted, plain)
