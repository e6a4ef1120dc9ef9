"""Random problems to check a cell's backward passes with, at every level jaxrnn has.

``check_backward(*cell_problem(cell, level))`` checks, for any :class:`jaxrnn.Cell`:

* ``"cell"``: ``cell_forward`` and ``cell_backward`` (the documents' exercise);
* ``"sequence"``: the sequence forward and backward;
* ``"lengths"``: the same with every example its own length, ``T_x`` (always) and 0 among
  them;
* ``"reverse"``: the same, each example's steps reversed within its length;
* ``"initial"``: the same again with every state's initial value given (the LSTM's ``c0``
  beside ``a0``), whose gradients the backward then returns;
* ``"bidirectional"``: a bidirectional layer of the cell (:mod:`jaxrnn.layers`), with lengths;
* ``"stacked"``: a bidirectional layer under a reversed one, the cross-entropy on top, with
  lengths: every layer's complete hand-derived gradient (``style="vjp"``).

>>> import numpy as np
>>> from jaxrnn.gradcheck import check_backward
>>> check_backward(*cell_problem("gru", "bidirectional", np.float32)).ok
True
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxrnn import layers
from jaxrnn.autodiff import paths
from jaxrnn.cells import resolve
from jaxrnn.gradcheck import Report, check_backward

#: the levels a problem is drawn at, in the order of the report's rows
LEVELS = ("cell", "sequence", "lengths", "reverse", "initial", "bidirectional", "stacked")


def cell_problem(cell, level: str = "cell", dtype=np.float64, *, sizes=None, seed: int = 0):
    """Random arguments for :func:`jaxrnn.gradcheck.check_backward` at one level.

    Arguments:
        cell: a :class:`jaxrnn.Cell`, a built-in cell's name or ``"package.module:NAME"``.
        level: one of :data:`LEVELS`.
        dtype: the dtype of every floating array.
        sizes: ``{"n_x", "n_a", "n_y", "m", "T_x"}``, by default 3, 5, 2, 4, 6: small, every
            dimension different.
        seed: seeds the standard-normal draws.

    Returns:
        ``(forward, backward, inputs, cotangents)``. At ``"stacked"`` the backward is a plain
        VJP, to check with ``style="vjp"``; :func:`check_problem` does so.
    """
    cell = resolve("cell_problem", cell)
    sizes = {"n_x": 3, "n_a": 5, "n_y": 2, "m": 4, "T_x": 6} | dict(sizes or {})
    n_x, n_a, n_y, m, T_x = (sizes[k] for k in ("n_x", "n_a", "n_y", "m", "T_x"))
    rng = np.random.default_rng(seed)
    draw = lambda *shape: rng.standard_normal(shape).astype(dtype)  # noqa: E731
    # a complex state (the LRU's), its initial values and its cotangents: both parts drawn
    state = (lambda *shape: draw(*shape) + 1j * draw(*shape)) if cell.complex_state else draw
    lengths = rng.integers(0, T_x + 1, m)
    # the edges, everything and nothing: one example of full length whatever m, so that
    # there is always something to check
    lengths[: min(m, 2)] = [T_x, 0][: min(m, 2)]
    if level == "cell":
        parameters = cell.random_parameters(rng, n_x, n_a, n_y, dtype)
        values = [draw(n_x, m), *(state(n_a, m) for _ in cell.state), parameters]
        # the documents' names, which the gradients are named after (dxt, da_prev, ...): the
        # checker passes them by position to a forward that names its arguments its own way
        names = ["xt", *(f"{s}_prev" for s in cell.state), "parameters"]
        inputs = dict(zip(names, values, strict=True))
        cotangents = tuple(state(n_a, m) for _ in cell.state)
        return (*compiled_cell_functions(cell), inputs, cotangents)
    if level in ("sequence", "lengths", "reverse", "initial"):
        parameters = cell.random_parameters(rng, n_x, n_a, n_y, dtype)
        inputs = {"x": draw(n_x, m, T_x), "a0": state(n_a, m), "parameters": parameters}
        if level == "initial":
            inputs |= {f"{s}0": state(n_a, m) for s in cell.state[1:]}
        if level != "sequence":
            inputs["lengths"] = lengths
        forward = functools.partial(cell.forward, reverse=True) if level in (
            "reverse", "initial"
        ) else cell.forward  # fmt: skip
        return forward, cell.backward, inputs, (state(n_a, m, T_x),)
    if level == "stacked" and cell.complex_state:
        raise ValueError(f"cell_problem: the {cell.name} cell's state is complex, and a stack "
                         f"feeds a layer's states to the next as its inputs, which are real: "
                         f"its levels are {list(LEVELS[:-1])}")  # fmt: skip
    if level == "bidirectional":
        layer = layers.Bidirectional(cell)
        (parameters,) = layers.random_parameters([layer], rng, n_x, n_a, dtype)
        inputs = {"x": draw(n_x, m, T_x), "a0": state(2 * n_a, m), "parameters": parameters,
                  "lengths": lengths}  # fmt: skip
        return (
            _bidirectional(layer),
            _bidirectional_backward(layer),
            inputs,
            (state(2 * n_a, m, T_x),),
        )
    if level == "stacked":
        stack = [layers.Bidirectional(cell), layers.Layer(cell, reverse=True)]
        parameters = layers.random_parameters(stack, rng, n_x, n_a, dtype)
        inputs = {
            "x": draw(n_x, m, T_x),
            "a0": {"layer0": draw(2 * n_a, m), "layer1": draw(n_a, m)},
            "parameters": {"layer0": parameters[0], "layer1": parameters[1]},
            "output": {"Wy": draw(n_y, n_a), "by": draw(n_y, 1)},
            "labels": rng.integers(0, n_y, (m, T_x)),
            "lengths": lengths,
        }
        return _stacked(stack), _stacked_backward(stack), inputs, (np.asarray(1.0, dtype),)
    raise ValueError(f"cell_problem: `level` must be one of {list(LEVELS)}; got {level!r}")


def check_problem(cell, level: str = "cell", dtype=np.float64, **options) -> Report:
    """``check_backward`` of :func:`cell_problem`; ``options`` go to both as they belong
    (``sizes``, ``seed`` to the problem; the checker's, ``finite_differences``, ``order``,
    ``skip``..., to the checker), with the gradients' shapes in symbols for where one is
    wrong."""
    sizes, seed = options.pop("sizes", None), options.pop("seed", 0)
    forward, backward, inputs, cotangents = cell_problem(cell, level, dtype, sizes=sizes, seed=seed)
    style = "vjp" if level == "stacked" else "documents"
    options.setdefault("dims", gradient_dims(cell, level))
    return check_backward(forward, backward, inputs, cotangents, style=style, **options)


def gradient_dims(cell, level: str) -> dict:
    """``{"dxt": "n_x m", "dWf": "n_a n_a+n_x", ...}``: a level's gradients' shapes in the
    documents' symbols (:func:`jaxrnn.gradcheck.where.locate` reads rows, examples and steps off
    them)."""
    cell = resolve("gradient_dims", cell)
    parameters = {f"d{k}": dims for k, dims in cell.parameter_shapes.items()}
    if level == "bidirectional":  # the layer's cells have no output layer of their own
        directions = {f"d{d}.{k}": cell.parameter_shapes[k] for d in ("forward", "backward")
                      for k in cell.gradient_keys}  # fmt: skip
        return {"dx": "n_x m T_x", "da0": "n_a+n_a m", **directions}
    if level == "cell":
        states = {f"d{s}_prev": "n_a m" for s in cell.state}
        return {"dxt": "n_x m", **states, **parameters}
    if level == "stacked":
        return {"dx": "n_x m T_x"}
    given = cell.state if level == "initial" else cell.state[:1]  # a0; the others given there
    states = {f"d{s}0": "n_a m" for s in given}
    return {"dx": "n_x m T_x", **states, **parameters}


def _bidirectional(layer):
    def bidirectional_forward(x, a0, parameters, lengths):
        return layers.layer_forward(layer, x, a0, parameters, lengths=lengths)

    return jax.jit(bidirectional_forward)  # one program, not an operation at a time


def _bidirectional_backward(layer):
    def bidirectional_backward(da, caches):
        g = layers.layer_backward(layer, da, caches)
        directions = {f"d{d}.{k[1:]}": v for d in ("forward", "backward") for k, v in g[d].items()}
        return {"dx": g["dx"], "da0": g["da0"], **directions}

    return _compiled(bidirectional_backward)


def _stacked(stack):
    def stacked_cross_entropy(x, a0, parameters, output, labels, lengths):
        a0s, ps = [a0["layer0"], a0["layer1"]], [parameters["layer0"], parameters["layer1"]]
        return layers.stack_cross_entropy(stack, x, a0s, ps, output, labels, lengths=lengths)

    return jax.jit(stacked_cross_entropy)  # one program, not an operation at a time


def _stacked_backward(stack):
    def stacked_loss_backward(inputs, cotangents):
        a0, p = inputs["a0"], inputs["parameters"]
        _, g = layers.stack_loss_and_gradients(
            stack, inputs["x"], [a0["layer0"], a0["layer1"]], [p["layer0"], p["layer1"]],
            inputs["output"], inputs["labels"], lengths=inputs["lengths"],
        )  # fmt: skip
        (scale,) = cotangents
        layer_grads = [{k: v for k, v in g["layers"][i].items() if k != "da0"} for i in (0, 1)]
        undo = lambda d: {k[1:]: scale * v for k, v in d.items()}  # noqa: E731 - "dWf" -> "Wf"
        return {
            "x": scale * g["dx"],
            "a0": {f"layer{i}": scale * g["layers"][i]["da0"] for i in (0, 1)},
            "parameters": {
                "layer0": {d: undo(layer_grads[0][d]) for d in ("forward", "backward")},
                "layer1": undo(layer_grads[1]),
            },
            "output": {"Wy": scale * g["dWy"], "by": scale * g["dby"]},
        }

    return _compiled(stacked_loss_backward)


def compiled_cell_functions(cell) -> tuple:
    """``(cell_forward, cell_backward)`` of a cell, each one compiled program (op by op, every
    operation would be a program of its own), the same two for the same functions: so that
    the cell level's problems and ``jaxrnn check``'s documents column share their programs."""
    return _jitted(cell.cell_forward), _compiled_once(cell.cell_backward)


def _compiled(backward):
    """A layer problem's manual backward as one compiled program: the same computation, which
    op by op costs a compilation per operation (``jaxrnn check`` runs it once per row). Its
    dictionaries keep their order (through ``jax.jit`` they would come back sorted)."""
    order = []

    def leaves(*arguments):
        found = list(paths(backward(*arguments)))
        order[:] = [path for path, _ in found]  # read as it is traced, once
        return tuple(leaf for _, leaf in found)

    compiled = jax.jit(leaves)

    def run(*arguments):
        tree = {}
        for path, leaf in zip(order, compiled(*arguments), strict=True):
            node = tree
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = leaf
        return tree

    run.__name__ = run.__qualname__ = backward.__name__
    return run


#: one compiled function per function, whoever asks (see compiled_cell_functions)
_jitted = functools.cache(jax.jit)
_compiled_once = functools.cache(_compiled)


__all__ = [
    "LEVELS", "cell_problem", "check_problem", "compiled_cell_functions", "gradient_dims"
]  # fmt: skip
