"""Bad input to any public function: the right exception, naming the argument, before tracing.

Every public function of every cell (the documents' four, the custom VJP, the autodiff twins,
the loss functions) gets valid arguments, and then each of its array arguments, parameters and
cache entries in turn is made bad in each way below. The call must raise the expected exception
type with a message naming what was made bad; eagerly, with no JAX frame in the traceback
(raised by jaxrnn's checks before JAX traces anything), under ``jax.jit``, and, for the array
arguments, under ``jax.vmap``.
"""

from __future__ import annotations

import functools
import os
import traceback
from types import SimpleNamespace

import jax
import numpy as np
import pytest
from helpers import cell_inputs, sequence_inputs

from jaxrnn import SequenceCache, autodiff, custom_vjp, loss
from jaxrnn.cells import CELLS

SIZES = {"n_x": 3, "n_a": 4, "n_y": 2, "m": 5}
T_X = 6


@pytest.fixture(autouse=True, scope="module")
def _whole_tracebacks():
    """JAX's traceback filtering off here. Filtering removes JAX's own frames from an error's
    traceback at every API boundary it passes (``jnp`` functions are jitted), so an error
    raised inside JAX would pass the eager check unseen; and it costs more than the rest of
    the test (48 tests of this module: 27.4 s with it, 15.3 s without). The messages checked
    are the same either way."""
    before = jax.config.jax_traceback_filtering
    jax.config.update("jax_traceback_filtering", "off")
    yield
    jax.config.update("jax_traceback_filtering", before)


def valid_calls(cell, rng):
    """``{label: (function, {argument: value})}``: valid arguments for each public function."""
    xt, state, parameters, dstate = cell_inputs(cell, rng, *SIZES.values(), dtype=np.float32)
    x, a0, _, da = sequence_inputs(cell, rng, *SIZES.values(), T_X, dtype=np.float32)
    cache = cell.cell_forward(xt, *state, parameters)[-1]
    caches = cell.forward(x, a0, parameters)[-1]
    labels = rng.integers(0, SIZES["n_y"], (SIZES["m"], T_X))
    step = {"xt": xt, **{f"{s}_prev": v for s, v in zip(cell.state, state, strict=True)}}
    sequence = {"x": x, "a0": a0, "parameters": parameters}
    cell_grads = {**{f"d{s}_next": v for s, v in zip(cell.state, dstate, strict=True)}}
    return {
        "cell_forward": (cell.cell_forward, {**step, "parameters": parameters}),
        "forward": (cell.forward, sequence),
        "custom_vjp": (getattr(custom_vjp, cell.name), sequence),
        "cell_backward": (cell.cell_backward, {**cell_grads, "cache": cache}),
        "cell_backward twin": (autodiff.cell_backward_twin(cell), {**cell_grads, "cache": cache}),
        "backward": (cell.backward, {"da": da, "caches": caches}),
        "backward twin": (autodiff.backward_twin(cell), {"da": da, "caches": caches}),
        "loss_and_gradients": (
            functools.partial(loss.loss_and_gradients, cell),
            {**sequence, "labels": labels},
        ),
        "cross_entropy": (
            functools.partial(loss.cross_entropy, cell),
            {**sequence, "labels": labels},
        ),
        "hidden_state_gradients": (
            functools.partial(loss.hidden_state_gradients, cell),
            {"da": da, "caches": caches},
        ),
        "autodiff hidden_loss_gradients": (
            functools.partial(autodiff.hidden_loss_gradients, cell),
            {"da": da, **sequence},
        ),
        "autodiff hidden_state_gradients": (
            functools.partial(autodiff.hidden_state_gradients, cell),
            {"da": da, **sequence},
        ),
    }


def bad_arrays(value, free=(), shortens=()):
    """``(how, bad value, expected exception, message fragment)`` for one array; an axis in
    ``free`` is no other argument's business, so a longer or shorter one is not bad, and one in
    ``shortens`` may be shorter (``da`` may cover fewer steps than ``x``)."""
    value = np.asarray(value)
    yield "one axis more", value[..., None], ValueError, "rank"
    yield "one axis less", value[..., 0], ValueError, "rank"
    for axis in range(value.ndim):
        longer = np.concatenate([value, value.take([0], axis=axis)], axis=axis)
        if axis not in free:
            yield f"axis {axis} one longer", longer, ValueError, "shape"
            if value.shape[axis] > 1 and axis not in shortens:  # would broadcast if unchecked
                yield f"axis {axis} of size 1", value.take([0], axis=axis), ValueError, "shape"
        yield f"axis {axis} empty", value.take([], axis=axis), ValueError, "at least 1"
    yield "complex", value.astype(np.complex64), TypeError, "complex64"


def bad_fields(fields, rebuild, shown):
    """A cache with one field at a time replaced by each of :func:`bad_arrays`: ``(shown,
    how, cache, error, fragment)``, ``rebuild`` making the cache from its fields."""
    for i, field in enumerate(fields):
        for how, bad, error, fragment in bad_arrays(field):
            changed = rebuild((*fields[:i], bad, *fields[i + 1 :]))
            yield f"{shown}[{i}]", how, changed, error, fragment


def mutations(arguments):
    """``(what, name in the message, arguments made bad, exception, fragment, vmappable)``."""
    # a sequence's length is x's to choose (da may cover its first steps), unless labels
    # cover every step
    free = {"x": (2,)} if "labels" not in arguments else {}
    for name, value in arguments.items():
        if isinstance(value, dict):  # the parameters
            for key in value:
                shown = f"parameters['{key}']"
                for how, bad, error, fragment in bad_arrays(value[key]):
                    changed = {**arguments, name: {**value, key: bad}}
                    yield f"{shown}: {how}", shown, changed, error, fragment, False
                missing = {k: v for k, v in value.items() if k != key}
                yield (
                    f"{key} missing",
                    "`parameters`",
                    {**arguments, name: missing},
                    KeyError,
                    key,
                    False,
                )
        elif name == "cache":
            for shown, how, changed, error, fragment in bad_fields(
                value[:-1], lambda fields, p=value[-1]: (*fields, p), "cache"
            ):
                yield f"{shown}: {how}", shown, {**arguments, name: changed}, error, fragment, False
            changed = {**arguments, name: value[:-2] + value[-1:]}
            yield "cache one short", "`cache`", changed, TypeError, "items", False
            params = {k: v for k, v in value[-1].items() if k != next(iter(value[-1]))}
            changed = {**arguments, name: (*value[:-1], params)}
            yield "cache parameters missing a key", "cache[-1]", changed, KeyError, "missing", False
        elif name == "caches":
            steps, x = value
            for shown, how, changed, error, fragment in bad_fields(
                steps.fields, lambda fields, p=steps.parameters, x=x: (SequenceCache(fields, p), x),
                "caches[0].fields",
            ):  # fmt: skip
                yield f"{shown}: {how}", shown, {**arguments, name: changed}, error, fragment, False
            for how, bad, error, fragment in bad_arrays(x):
                yield f"caches[1]: {how}", "caches[1]", {**arguments, name: (steps, bad)}, error, \
                    fragment, False  # fmt: skip
            yield (
                "caches not a pair",
                "`caches`",
                {**arguments, name: steps},
                TypeError,
                "pair",
                False,
            )
            changed = {**arguments, name: (list(steps)[:-1], x)}
            yield "list of step caches one short", "caches[1]", changed, ValueError, "T_x", False
        else:
            shortens = (2,) if name == "da" else ()
            for how, bad, error, fragment in bad_arrays(value, free.get(name, ()), shortens):
                yield (
                    f"`{name}`: {how}",
                    f"`{name}`",
                    {**arguments, name: bad},
                    error,
                    fragment,
                    True,
                )


def no_jax_frames(info) -> bool:
    jax_dir = os.path.dirname(jax.__file__)
    return not any(f.filename.startswith(jax_dir) for f in traceback.extract_tb(info.tb))


def run(function, arguments, transform, name):
    if transform == "eager":
        return function(**arguments)
    if transform == "jit":
        return jax.jit(lambda kw: function(**kw))(arguments)
    stacked = np.stack([arguments[name], arguments[name]])  # vmap over a new leading axis
    return jax.vmap(lambda v: function(**{**arguments, name: v}))(stacked)


@pytest.mark.parametrize("label", list(valid_calls(CELLS["rnn"], np.random.default_rng(0))))
@pytest.mark.parametrize("cell_name", list(CELLS))
def test_every_bad_argument_is_named(cell_name, label):
    function, arguments = valid_calls(CELLS[cell_name], np.random.default_rng(0))[label]
    function(**arguments)  # the valid call works
    wrong = []
    cases = list(mutations(arguments))
    assert len(cases) > 10
    for what, shown, changed, error, fragment, vmappable in cases:
        transforms = ["eager", "jit"] + (["vmap"] if vmappable else [])
        for transform in transforms:
            target = what.split("`")[1] if vmappable else None
            try:
                run(function, changed, transform, target)
            except error as err:
                message = str(err)
                missing = [f for f in (shown.strip("`"), fragment) if f not in message]
                info = pytest.ExceptionInfo.from_exc_info((type(err), err, err.__traceback__))
                if missing:
                    wrong.append(f"{what} [{transform}]: {missing} not in {message!r}")
                elif transform == "eager" and not no_jax_frames(info):
                    wrong.append(f"{what} [{transform}]: raised from inside JAX: {message!r}")
            except Exception as err:  # noqa: BLE001 - collected, reported below
                wrong.append(f"{what} [{transform}]: {type(err).__name__}: {str(err)[:300]}")
            else:
                wrong.append(f"{what} [{transform}]: no error")
    assert not wrong, f"{len(wrong)} of {len(cases)} cases:\n" + "\n".join(wrong[:20])


def test_extra_parameter_keys_are_ignored(cell, rng):
    """Keys a cell does not use change nothing (a dictionary may hold more, as an optimizer's
    state or another layer's); the result is bit for bit the same."""
    function, arguments = valid_calls(cell, rng)["forward"]
    extra = {**arguments["parameters"], "W_other": np.ones((7, 7), np.float32)}
    plain = function(**arguments)
    more = function(**{**arguments, "parameters": extra})
    for got, want in zip(jax.tree.leaves(more[:-1]), jax.tree.leaves(plain[:-1]), strict=True):
        np.testing.assert_array_equal(got, want)
    assert "W_other" not in more[-1][0].parameters  # nor does it end up in the caches


@functools.cache
def data():
    """Arguments for :func:`specific_cases`, made on first use, not at collection."""
    rng = np.random.default_rng(0)
    d = SimpleNamespace(F=np.float32)
    d.p = CELLS["rnn"].random_parameters(rng, 3, 5, 2)
    d.lp = CELLS["lstm"].random_parameters(rng, 3, 5, 2)
    d.gp = CELLS["gru"].random_parameters(rng, 3, 5, 2)
    d.x, d.a0, d.lx = np.ones((3, 10, 4), d.F), np.ones((5, 10), d.F), np.ones((3, 10, 7), d.F)
    d.caches = CELLS["rnn"].forward(d.x, d.a0, d.p)[-1]
    d.lcaches = CELLS["lstm"].forward(d.lx, d.a0, d.lp)[-1]
    d.steps = list(d.caches[0])
    return d


def specific_cases():
    """Cases whose message must say more than the argument's name: which argument is to blame
    when two disagree, and what was expected of it. The calls take :func:`data`."""
    rnn, lstm, gru = (CELLS[k] for k in ("rnn", "lstm", "gru"))
    return {
        # a transposed weight is blamed, not the weight that then disagrees with it
        "rnn Wax transposed": (
            lambda d: rnn.forward(d.x, d.a0, {**d.p, "Wax": d.p["Wax"].T}),
            ValueError, ["parameters['Wax']", "(3, 5)", "(n_a, n_x) = (5, 3)"],
        ),
        "lstm Wy transposed": (
            lambda d: lstm.forward(d.lx, d.a0, {**d.lp, "Wy": d.lp["Wy"].T}),
            ValueError,
            ["parameters['Wy']", "(n_y, n_a) = (2, 5)", "n_y = 2 from parameters['by']"],
        ),
        # a wrong input is blamed, not the weights that all agree with one another
        "lstm x of another n_x": (
            lambda d: lstm.forward(np.ones((4, 10, 7), d.F), d.a0, d.lp),
            ValueError, ["`x`", "(4, 10, 7)", "(n_x, m, T_x) = (3, 10, 7)", "parameters['Wf']"],
        ),
        "gru x of another n_x": (
            lambda d: gru.forward(np.ones((2, 10, 4), d.F), d.a0, d.gp),
            ValueError, ["`x`", "(n_x, m, T_x) = (3, 10, 4)"],
        ),
        "rnn a0 batch vs x": (
            lambda d: rnn.forward(d.x, np.ones((5, 9), d.F), d.p),
            ValueError, ["`a0`", "(5, 9)", "m = 10 from `x`"],
        ),
        "rnn da longer than x": (
            lambda d: rnn.backward(np.ones((5, 10, 9), d.F), d.caches),
            ValueError, ["`da`", "(5, 10, 9)", "9 time steps", "T_x = 4"],
        ),
        # caches that were tampered with
        "caches' parameter not an array": (
            lambda d: rnn.backward(np.ones((5, 10, 4), d.F),
                                 (SequenceCache(d.caches[0].fields, {**d.p, "Waa": None}), d.x)),
            TypeError, ["caches[0].parameters['Waa']", "real numbers", "object"],
        ),
        "caches' parameters missing a key": (
            lambda d: rnn.backward(np.ones((5, 10, 4), d.F), (SequenceCache(d.caches[0].fields,
                                   {k: v for k, v in d.p.items() if k != "Waa"}), d.x)),
            KeyError, ["`caches[0].parameters`", "'Waa'"],
        ),
        "caches' weight transposed": (
            lambda d: rnn.backward(np.ones((5, 10, 4), d.F), (SequenceCache(d.caches[0].fields,
                                   {**d.p, "Wax": d.p["Wax"].T}), d.x)),
            ValueError, ["caches[0].parameters['Wax']", "(n_a, n_x) = (5, 3)"],
        ),
        "documents' list, one step's m wrong": (
            lambda d: rnn.backward(np.ones((5, 10, 4), d.F),
                                 ([*d.steps[:1], tuple(f[:, :3] for f in d.steps[1][:-1]) + (d.p,),
                                   *d.steps[2:]], d.x)),
            ValueError, ["caches[0][1][0] (a_next)", "(5, 3)", "(n_a, m) = (5, 10)"],
        ),
        "documents' list one step short": (
            lambda d: rnn.backward(np.ones((5, 10, 3), d.F), (d.steps[:-1], d.x)),
            ValueError, ["caches[1] (x)", "(3, 10, 4)", "T_x = 3"],
        ),
        "caches[1] of another length": (
            lambda d: rnn.backward(np.ones((5, 10, 4), d.F),
                                   (d.caches[0], np.ones((3, 10, 9), d.F))),
            ValueError, ["caches[1] (x)", "(3, 10, 9)", "(n_x, m, T_x) = (3, 10, 4)"],
        ),
        "lstm caches given to rnn_backward": (
            lambda d: rnn.backward(np.ones((5, 10, 4), d.F), d.lcaches),
            TypeError, ["`caches[0]`", "4-tuple"],
        ),
        "lstm cell cache in the rnn twin": (
            lambda d: autodiff.rnn_cell_backward(np.ones((5, 10), d.F), d.lcaches[0][0]),
            TypeError, ["rnn_cell_backward", "`cache`", "4 items", "length 10"],
        ),
        "twin's cotangent of the wrong shape": (
            lambda d: autodiff.rnn_cell_backward(np.ones((5, 3), d.F), d.steps[0]),
            ValueError, ["rnn_cell_backward", "`da_next`", "(5, 3)", "(n_a, m) = (5, 10)"],
        ),
        "parameters not a dict": (
            lambda d: rnn.forward(d.x, d.a0, [1, 2]), TypeError, ["`parameters`", "list"]
        ),
        "x a string": (lambda d: rnn.forward("abc", d.a0, d.p), TypeError, ["`x`", "<U3"]),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(specific_cases()))
def test_the_message_says_what_was_expected(case):
    call, error, fragments = specific_cases()[case]
    with pytest.raises(error) as info:
        call(data())
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert no_jax_frames(info), message
