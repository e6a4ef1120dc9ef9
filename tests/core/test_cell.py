"""jaxrnn.Cell: a cell from its two documents-style functions gets everything jaxrnn derives;
the built-in cells' fast paths equal their documents-form functions."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import sequence_inputs
from hypothesis import given
from hypothesis import strategies as st
from user_cells import MGU, NORM, mgu_cell_backward, mgu_cell_forward

import jaxrnn
from jaxrnn import autodiff, cli, custom_vjp, loss
from jaxrnn.cells import LSTM, RNN
from jaxrnn.gradcheck import check_backward
from jaxrnn.gradcheck.tolerances import AGREEMENT, scaled_error
from jaxrnn.problems import cell_problem

TOL = AGREEMENT[np.dtype("float64")]


def assert_close(got, want, what=""):
    assert np.shape(got) == np.shape(want), what
    assert scaled_error(got, want, TOL) <= 1, what


def test_a_cell_of_your_own_reads_its_cache_off_its_forward():
    assert MGU.name == "mgu"
    assert MGU.cache_fields == {"a_next": "n_a m", "a_prev": "n_a m", "ft": "n_a m",
                                "cct": "n_a m", "xt": "n_x m"}  # fmt: skip
    assert MGU.gradient_keys == ("Wf", "bf", "Wc", "bc") and MGU.fast is None
    assert MGU.forward.__name__ == "mgu_forward" and MGU.backward.__name__ == "mgu_backward"


def test_its_sequence_functions_are_the_documents_loops(rng):
    """forward: the documents' loop over cell_forward; backward: their reverse loop over
    cell_backward, da added to the gradient from the next step, parameter gradients summed."""
    x, a0, p, da = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6, T_da=4)
    with jax.enable_x64(True):
        a, y_pred, caches = MGU.forward(x, a0, p)
        gradients = MGU.backward(da, caches)
        a_next, loops = a0, []
        for t in range(6):
            a_next, yt_pred, cache = mgu_cell_forward(x[:, :, t], a_next, p)
            loops.append(cache)
            assert_close(a[:, :, t], a_next, f"a at {t}")
            assert_close(y_pred[:, :, t], yt_pred, f"y_pred at {t}")
        dx, da_prev = np.zeros_like(x), np.zeros_like(a0)
        sums = dict.fromkeys(MGU.gradient_keys, 0.0)
        for t in reversed(range(4)):
            step = mgu_cell_backward(da[:, :, t] + da_prev, loops[t])
            dx[:, :, t], da_prev = step["dxt"], step["da_prev"]
            sums = {k: sums[k] + step[f"d{k}"] for k in sums}
    assert_close(gradients["dx"], dx, "dx")
    assert_close(gradients["da0"], da_prev, "da0")
    for k in MGU.gradient_keys:
        assert_close(gradients[f"d{k}"], sums[k], k)
    assert list(gradients) == ["dx", "da0", "dWf", "dbf", "dWc", "dbc"]


@pytest.mark.parametrize("level", ["cell", "sequence"])
def test_its_backward_agrees_with_autodiff_and_finite_differences(level):
    with jax.enable_x64(True):
        report = check_backward(*cell_problem(MGU, level), finite_differences=True)
        forward, backward, inputs, cotangents = cell_problem(MGU, level)
        twin = (autodiff.cell_backward_twin if level == "cell" else autodiff.backward_twin)(MGU)
        cache = forward(*inputs.values())[-1]
        manual, reference = backward(*cotangents, cache), twin(*cotangents, cache)
    assert report.ok, f"\n{report}"
    for key in reference:
        assert_close(manual[key], reference[key], key)


@pytest.mark.parametrize("checkpoint", [None, 2])
def test_its_custom_vjp_and_loss_run_the_manual_backward(rng, checkpoint):
    x, a0, p, da = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6)
    labels, dy = rng.integers(0, 2, (5, 6)), rng.standard_normal((2, 5, 6))
    with jax.enable_x64(True):

        def loss_of(function):
            return lambda p: (
                jnp.sum(da * function(x, a0, p)[0]) + jnp.sum(dy * function(x, a0, p)[1])
            )

        manual = jax.grad(loss_of(lambda *a: custom_vjp.of(MGU)(*a, checkpoint=checkpoint)))(p)
        reference = jax.grad(loss_of(lambda *a: MGU.forward(*a)[:-1]))(p)
        J, gradients = loss.loss_and_gradients(MGU, x, a0, p, labels)
        by_grad = jax.grad(loss.cross_entropy, argnums=3)(MGU, x, a0, p, labels)
    for key in p:
        assert_close(manual[key], reference[key], key)
        assert_close(gradients[f"d{key}"], by_grad[key], key)


def test_jaxrnn_check_takes_it_by_module_path(capsys):
    argv = ["check", "--cell", "user_cells:MGU", "--dtype", "float64", "--level", "cell",
            "sequence", "lengths"]  # fmt: skip
    assert cli.main(argv) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if " mgu " in line]
    assert len(rows) == 3 and all(row.endswith("PASS") for row in rows)


def test_a_planted_mistake_in_its_backward_is_caught_and_named():
    def wrong(da_next, cache):  # the candidate's tanh' without its square
        gradients = dict(mgu_cell_backward(da_next, cache))
        a_next, a_prev, ft, cct, xt, p = cache
        dcct = da_next * ft * (1 - cct)
        return gradients | {"dbc": jnp.sum(dcct, axis=1, keepdims=True)}

    cell = dataclasses.replace(MGU, cell_backward=wrong, forward=None, backward=None)
    with jax.enable_x64(True):
        report = check_backward(*cell_problem(cell, "sequence"), finite_differences=True)
    assert report.failed == ["dbc"], f"\n{report}"


def test_a_backward_returning_wrong_keys_or_shapes_is_named(rng):
    x, a0, p, da = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6, dtype=np.float32)
    for wrong, fragment in [
        (lambda da_next, cache: {k: v for k, v in mgu_cell_backward(da_next, cache).items()
                                 if k != "dbc"}, "missing ['dbc']"),
        (lambda da_next, cache: mgu_cell_backward(da_next, cache) | {"dWz": 0.0},
         "unknown ['dWz']"),
        (lambda da_next, cache: mgu_cell_backward(da_next, cache) | {"dbf": 0.0},
         "returned 'dbf' of shape ()"),
    ]:  # fmt: skip
        cell = dataclasses.replace(MGU, cell_backward=wrong, forward=None, backward=None)
        caches = cell.forward(x, a0, p)[-1]
        with pytest.raises(ValueError, match="must return|returned") as info:
            cell.backward(da, caches)
        assert fragment in str(info.value)


def test_a_cell_definition_that_cannot_work_is_refused():
    def plain_tuple(xt, a_prev, parameters):
        a_next, yt_pred, cache = mgu_cell_forward(xt, a_prev, parameters)
        return a_next, yt_pred, tuple(cache)

    def other_output(xt, a_prev, parameters):
        a_next, yt_pred, cache = mgu_cell_forward(xt, a_prev, parameters)
        return a_next, jaxrnn.softmax(a_next[:2]), cache

    shapes = MGU.parameter_shapes
    cases = [
        (dict(cell_forward=plain_tuple), TypeError, "name its fields"),
        (dict(cell_forward=other_output), ValueError, "output layer"),
        (dict(parameter_shapes={**shapes, "Wf": "n_a n_a+n_z"}), ValueError, "'Wf'"),
        (dict(parameter_shapes={k: v for k, v in shapes.items() if k != "by"}), ValueError, "by"),
        (dict(state=("c", "a")), ValueError, "'a' first"),
    ]
    for changes, error, fragment in cases:
        arguments = {"cell_forward": mgu_cell_forward, "cell_backward": mgu_cell_backward,
                     "parameter_shapes": shapes, "name": "mgu"} | changes  # fmt: skip
        with pytest.raises(error, match=fragment):
            jaxrnn.Cell(**arguments)
    plain = jaxrnn.Cell(cell_forward=plain_tuple, cell_backward=mgu_cell_backward,
                        parameter_shapes=shapes, name="mgu",
                        cache_fields=dict(MGU.cache_fields))  # fmt: skip
    assert plain.cache is tuple


@given(sizes=st.tuples(*(st.integers(1, 5) for _ in range(5))), seed=st.integers(0, 2**31 - 1))
def test_fast_path_equals_the_documents_form(cell, sizes, seed):
    """The built-in cells run their fast path; their generic twin runs the documents' cell
    functions step by step. Forward, caches and backward agree."""
    n_x, n_a, m, T_x, T_da = sizes
    T_da = min(T_da, T_x)
    x, a0, p, da = sequence_inputs(cell, np.random.default_rng(seed), n_x, n_a, 2, m, T_x, T_da)
    with jax.enable_x64(True):
        fast, generic = cell.forward(x, a0, p), cell.generic.forward(x, a0, p)
        for got, want in zip(jax.tree.leaves(fast), jax.tree.leaves(generic), strict=True):
            assert_close(got, want)
        got, want = cell.backward(da, fast[-1]), cell.generic.backward(da, generic[-1])
    assert cell.generic.fast is None and list(got) == list(want)
    for key in want:
        assert_close(got[key], want[key], key)


def test_a_cell_that_names_its_arguments_its_own_way_passes_every_level(capsys):
    """NORM's forward takes (x_t, h_prev, params): the checker passes inputs by position."""
    with jax.enable_x64(True):
        report = check_backward(*cell_problem(NORM, "cell"), finite_differences=True)
    assert report.ok, f"\n{report}"
    argv = ["check", "--cell", "user_cells:NORM", "--dtype", "float64", "--level", "cell"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.count(" PASS") == 1


class StackedGatesCache(NamedTuple):
    a_next: object
    c_next: object
    a_prev: object
    c_prev: object
    gates: object  # ft, it, cct, ot stacked: (4 n_a, m), whose size no probe can name
    xt: object
    parameters: dict


def stacked_gates_forward(xt, a_prev, c_prev, parameters):
    a_next, c_next, yt_pred, c = jaxrnn.lstm_cell_forward(xt, a_prev, c_prev, parameters)
    gates = jnp.concatenate([c.ft, c.it, c.cct, c.ot])
    return a_next, c_next, yt_pred, StackedGatesCache(a_next, c_next, a_prev, c_prev, gates, xt,
                                                      parameters)  # fmt: skip


def stacked_gates_backward(da_next, dc_next, cache):
    ft, it, cct, ot = jnp.split(cache.gates, 4)
    c = cache
    return jaxrnn.lstm_cell_backward(da_next, dc_next, jaxrnn.cells.lstm.LSTMCache(
        c.a_next, c.c_next, c.a_prev, c.c_prev, ft, it, cct, ot, c.xt, c.parameters))  # fmt: skip


STACKED_FIELDS = {"a_next": "n_a m", "c_next": "n_a m", "a_prev": "n_a m", "c_prev": "n_a m",
                  "gates": "n_a+n_a+n_a+n_a m", "xt": "n_x m"}  # fmt: skip


def test_cache_fields_given_are_taken_and_checked_against_the_forward():
    stacked = dict(cell_forward=stacked_gates_forward, cell_backward=stacked_gates_backward,
                   parameter_shapes=jaxrnn.cells.lstm.PARAMETER_SHAPES,
                   state=("a", "c"))  # fmt: skip
    cell = jaxrnn.Cell(**stacked, cache_fields=STACKED_FIELDS, name="stacked")
    assert cell.cache is StackedGatesCache and cell.cache_fields == STACKED_FIELDS
    with jax.enable_x64(True):
        assert check_backward(*cell_problem(cell, "sequence")).ok
    eight = dict(list(jaxrnn.cells.lstm.CACHE_FIELDS.items())[:8])  # xt left out
    cases = [
        (dict(cache=jaxrnn.cells.lstm.LSTMCache, cache_fields=eight),
         "cache=LSTMCache has the fields"),
        (dict(**stacked, cache_fields={**STACKED_FIELDS, "gates": "n_a m"}),
         r"'gates' of shape \(44, 17\); cache_fields gives it \(n_a, m\) = \(11, 17\)"),
        (dict(**stacked, cache_fields=dict(list(STACKED_FIELDS.items())[::-1])),
         "in the cache's order"),
    ]  # fmt: skip
    for arguments, fragment in cases:
        arguments = {
            "cell_forward": jaxrnn.lstm_cell_forward,
            "cell_backward": jaxrnn.lstm_cell_backward,
            "state": ("a", "c"),
            "parameter_shapes": jaxrnn.cells.lstm.PARAMETER_SHAPES,
            "name": "x",
        } | arguments
        with pytest.raises(ValueError, match=fragment):  # fmt: skip
            jaxrnn.Cell(**arguments)


def test_a_state_or_gradient_of_another_dtype_is_named_before_the_scan(rng):
    def float32_da_prev(da_next, cache):
        gradients = mgu_cell_backward(da_next, cache)
        return gradients | {"da_prev": gradients["da_prev"].astype(jnp.float32)}

    def float64_state(xt, a_prev, parameters):
        a_next, yt_pred, cache = mgu_cell_forward(xt, a_prev, parameters)
        return a_next.astype(jnp.float64), yt_pred, cache

    with jax.enable_x64(True):
        x, a0, p, da = sequence_inputs(MGU, rng, 3, 4, 2, 5, 6)
        caches = MGU.forward(x, a0, p)[-1]
        with pytest.raises(TypeError, match="float32_da_prev returned 'da_prev' of dtype "
                                            "float32; its input has dtype float64"):  # fmt: skip
            dataclasses.replace(MGU, cell_backward=float32_da_prev).backward(da, caches)
        x32, a032, p32 = x.astype(np.float32), a0.astype(np.float32), MGU.random_parameters(
            rng, 3, 4, 2, np.float32)  # fmt: skip
        with pytest.raises(TypeError, match="float64_state returned a_next of shape .* dtype "
                                            "float64; a_prev has .* dtype float32"):  # fmt: skip
            dataclasses.replace(MGU, cell_forward=float64_state).forward(x32, a032, p32)


def test_a_copy_with_another_cell_backward_runs_it_in_its_sequence_backward(rng):
    """dataclasses.replace(cell, cell_backward=...) derives the sequence functions anew."""

    def doubled(da_next, cache):
        return {k: 2 * v for k, v in mgu_cell_backward(da_next, cache).items()}

    x, a0, p, da = sequence_inputs(MGU, rng, 3, 4, 2, 5, 1)  # one step
    with jax.enable_x64(True):
        caches = MGU.forward(x, a0, p)[-1]
        got = dataclasses.replace(MGU, cell_backward=doubled).backward(da, caches)
        want = doubled(da[:, :, 0], caches[0][0])
    for key in MGU.gradient_keys:
        assert_close(got[f"d{key}"], want[f"d{key}"], key)


@pytest.mark.parametrize("builtin", [RNN, LSTM], ids=["rnn", "lstm"])
def test_a_builtin_copy_with_another_cell_backward_leaves_its_fast_path(builtin, rng):
    """dataclasses.replace(LSTM, cell_backward=...) runs the new cell backward in the sequence
    backward and in custom_vjp, not the built-in's stacked fast path or its own functions."""
    keys = {f"d{k}" for k in builtin.gradient_keys}

    def doubled(*args):
        return {k: 2 * v if k in keys else v for k, v in builtin.cell_backward(*args).items()}

    copy = dataclasses.replace(builtin, cell_backward=doubled)
    assert copy.fast is None and copy.forward is not builtin.forward
    x, a0, p, da = sequence_inputs(builtin, rng, 3, 4, 2, 5, 3)
    with jax.enable_x64(True):
        caches = builtin.forward(x, a0, p)[-1]
        got, want = copy.backward(da, caches), builtin.backward(da, caches)
        loss = lambda cell: lambda p: jnp.sum(da * custom_vjp.of(cell)(x, a0, p)[0])  # noqa: E731
        through_vjp = jax.grad(loss(copy))(p)
        for key in builtin.gradient_keys:
            assert_close(got[f"d{key}"], 2 * want[f"d{key}"], key)
            assert_close(through_vjp[key], 2 * want[f"d{key}"], key)
