"""Assertions for your own test suite: your hand-derived backward agrees with ``jax.vjp``.

>>> import numpy as np, jaxrnn
>>> from jaxrnn.testing import assert_backward_agrees, assert_cell_agrees
>>> report = assert_cell_agrees("rnn", levels=("cell",), dtype=np.float32)  # passes quietly
>>> def wrong(da_next, cache):  # eq. (8) without the transpose
...     a_next, a_prev, xt, p = cache
...     dtanh = da_next * (1 - a_next**2)
...     return jaxrnn.rnn_cell_backward(da_next, cache) | {"da_prev": p["Waa"] @ dtanh}
>>> try:
...     assert_cell_agrees("rnn", cell_backward=wrong, levels=("cell",), dtype=np.float32)
... except AssertionError as error:
...     print(str(error).splitlines()[0])
rnn_cell_backward disagrees with jax.vjp: da_prev

Each raises ``AssertionError`` whose message is the gradient checker's table
(:mod:`jaxrnn.gradcheck`). They take any functions, including those a ``chex`` variant wraps
(``self.variant(my_backward)``), and compare with ``chex.assert_trees_all_close`` at jaxrnn's
tolerance for the dtype (:mod:`jaxrnn.gradcheck.tolerances`), so ``chex.disable_asserts()`` turns
that comparison off as it does chex's own. chex is imported when an assertion first runs: install it
with ``pip install 'jaxrnn[test]'`` or ``pip install chex``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping

import numpy as np

from jaxrnn.cells import resolve
from jaxrnn.gradcheck import Report, check_backward
from jaxrnn.gradcheck.tolerances import agreement_target
from jaxrnn.problems import LEVELS, cell_problem, gradient_dims


def _chex():
    try:
        import chex
    except ImportError as err:  # a test dependency, not a runtime one
        raise ImportError(
            "jaxrnn.testing needs chex: pip install 'jaxrnn[test]' (or pip install chex)"
        ) from err
    return chex


def assert_gradients_close(
    actual: Mapping, desired: Mapping, dtype=None, exact: Callable | None = None
) -> None:
    """Every gradient of ``actual`` is ``desired``'s, of the same keys, shape and dtype, to
    jaxrnn's agreement tolerance for the dtype: ``max |actual - desired| <= rtol * max
    |desired|`` per gradient (see :mod:`jaxrnn.gradcheck.tolerances`), checked by chex.

    Arguments:
        actual, desired: dictionaries of gradients (``{"dxt": ..., "dWf": ...}``), ``desired``
            from ``jax.vjp`` in the same dtype.
        dtype: the dtype whose tolerance applies; by default the desired gradients'.
        exact: called without arguments, returns the gradients in float64. Where a float32
            gradient is outside the tolerance, or always in float16 and bfloat16, it is then
            measured against these, allowed as far from them as ``desired`` is
            (:func:`jaxrnn.gradcheck.tolerances.low_precision_tolerance`).
    """
    chex = _chex()
    # by key: a dictionary that went through jax.jit comes back with its keys sorted
    if set(actual) != set(desired):
        raise AssertionError(f"gradient keys {sorted(actual)} != {sorted(desired)}")
    # float64's answers, computed when a gradient first needs them
    float64 = functools.cache(lambda: {k: np.asarray(v, np.float64) for k, v in exact().items()})
    for key, want in desired.items():
        want = np.asarray(want)
        chex.assert_shape(actual[key], want.shape, custom_message=key)
        chex.assert_type(actual[key], want.dtype, custom_message=key)
        chex.assert_tree_all_finite(actual[key], custom_message=key)
        reference, rtol, atol, _ = agreement_target(
            dtype or want.dtype, actual[key], want,
            None if exact is None else lambda key=key: float64()[key],
        )  # fmt: skip
        scale = float(np.max(np.abs(reference), initial=0.0))
        chex.assert_trees_all_close(
            np.asarray(actual[key], np.float64), np.asarray(reference, np.float64), rtol=0.0,
            atol=atol + rtol * scale, custom_message=key,
        )  # fmt: skip


def assert_backward_agrees(
    forward: Callable, backward: Callable, inputs: Mapping, cotangents, **options
) -> Report:
    """:func:`jaxrnn.gradcheck.check_backward` as an assertion.

    Arguments:
        forward, backward, inputs, cotangents: as for ``check_backward``.
        **options: every option of ``check_backward`` (``style``, ``finite_differences``,
            ``adjoint``, ``order``, ``check_batched``, ``rtol``, ``atol``, ``dims``, ``skip``,
            ``seed``).

    Returns:
        The :class:`~jaxrnn.gradcheck.Report`, when every gradient agrees.

    Raises:
        AssertionError: naming the wrong gradients, with the checker's table.
    """
    report = check_backward(forward, backward, inputs, cotangents, **options)
    if not report.ok:
        name = getattr(backward, "__name__", "the backward")
        if report.failed or not report.undecided:
            what = f"disagrees with jax.vjp: {', '.join(report.failed) or 'nothing checked'}"
        else:
            what = f"cannot be checked here, rounding decides: {', '.join(report.undecided)}"
        raise AssertionError(f"{name} {what}\n{report}")
    return report


def assert_cell_agrees(
    cell,
    *,
    cell_backward: Callable | None = None,
    backward: Callable | None = None,
    levels=("cell", "sequence"),
    dtype=np.float64,
    finite_differences: bool | None = None,
    sizes=None,
    seed: int = 0,
    **options,
) -> list[Report]:
    """A cell's backward functions agree with ``jax.vjp`` of its forwards, at each level.

    Arguments:
        cell: a :class:`jaxrnn.Cell` or a built-in cell's name.
        cell_backward, backward: the backward functions to check in place of the cell's own
            (``cell.cell_backward``, ``cell.backward``): your version of an exercise. Each is
            checked at every level asked for that runs it: ``cell_backward`` at ``"cell"``
            and, inside jaxrnn's reverse scan (the documents' loop), at every other level;
            ``backward`` at ``"sequence"``, ``"lengths"`` and ``"reverse"`` (a layer runs no
            sequence backward of yours, so ``backward`` with ``"bidirectional"`` or
            ``"stacked"`` is refused). A ``cell_backward`` in NumPy, which JAX cannot trace,
            is run untraced: at ``"cell"``, and at ``"sequence"`` inside the documents' loop
            in NumPy (:func:`jaxrnn.course.reference.loop_backward`); the other levels run it
            inside a traced scan and refuse it.
        levels: any of :data:`jaxrnn.problems.LEVELS`.
        dtype: the dtype of the random problem (:func:`jaxrnn.problems.cell_problem`).
        finite_differences: also against central differences; by default in float64 only.
        sizes, seed: as for :func:`~jaxrnn.problems.cell_problem`.
        **options: the checker's other options (``adjoint``, ``order``, ``check_batched``,
            ``rtol``, ``atol``, ``skip``), as :func:`~jaxrnn.gradcheck.check_backward` takes
            them; the report has their columns.

    Returns:
        The reports, one per level and function checked there, when every gradient agrees.
    """
    fn = "assert_cell_agrees"
    cell = resolve(fn, cell)
    finite_differences = (np.dtype(dtype) == np.float64) if finite_differences is None else (
        finite_differences
    )  # fmt: skip
    for level in levels:
        if level not in LEVELS:
            raise ValueError(f"{fn}: unknown level {level!r}; choose from {LEVELS}")
        if backward is not None and level in ("bidirectional", "stacked"):
            raise ValueError(
                f"{fn}: `backward` is a sequence backward, which a {level} layer does not run "
                f"(it runs jaxrnn's reverse scan over the cell's cell_backward): pass "
                f"cell_backward= to check yours there, or leave the level out"
            )
    # the caller's cell backward inside jaxrnn's reverse scan: the documents' loop over it
    theirs = None if cell_backward is None else dataclasses.replace(
        cell.generic, cell_backward=_named(cell_backward, cell.cell_backward.__name__)
    )  # fmt: skip
    numpy = cell_backward is not None and not _traceable(cell, cell_backward, dtype)
    traced = [level for level in levels if level not in ("cell", "sequence")]
    if numpy and traced:
        raise TypeError(
            f"{fn}: `cell_backward` is code JAX cannot trace (NumPy, say), and the levels "
            f"{traced} run it inside a traced scan; check it at levels ('cell', 'sequence'), "
            f"where it runs untraced, or write it with jax.numpy"
        )
    reports = []
    for level in levels:
        checks = []  # (the problem's cell, the backward to check or its own, said of it)
        if level == "cell":
            checks.append((cell, cell_backward, ""))
        elif level in ("sequence", "lengths", "reverse") and backward is not None:
            checks.append((cell, backward, ""))
        if level != "cell" and theirs is not None:
            loop = _documents_loop(cell, cell_backward) if numpy else None
            checks.append((theirs, loop, f" over your {cell.cell_backward.__name__}"))
        if not checks:
            checks.append((cell, None, ""))
        for problem_cell, mine, over in checks:
            forward, own, inputs, cotangents = cell_problem(
                problem_cell, level, dtype, sizes=sizes, seed=seed
            )
            mine = _named(mine or own, own.__name__ + (over or ""))
            style = "vjp" if level == "stacked" else "documents"
            with _x64(dtype):
                reports.append(assert_backward_agrees(
                    forward, mine, inputs, cotangents, style=style,
                    finite_differences=finite_differences,
                    **{"dims": gradient_dims(problem_cell, level), **options},
                ))  # fmt: skip
    return reports


def _traceable(cell, cell_backward: Callable, dtype) -> bool:
    """Whether JAX can trace ``cell_backward`` (a NumPy one it cannot), tried on the cell
    level's problem."""
    import jax

    forward, _, inputs, cotangents = cell_problem(cell, "cell", dtype)
    with _x64(dtype):
        cache = forward(*inputs.values())[-1]
        try:
            jax.eval_shape(lambda *args: cell_backward(*args), *cotangents, cache)
        except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
            return False
    return True


def _documents_loop(cell, cell_backward: Callable) -> Callable:
    """The documents' reverse loop in NumPy over ``cell_backward``, run untraced."""
    from jaxrnn.course import reference as numpy_reference

    keys = [f"d{k}" for k in cell.gradient_keys]
    carried = [f"d{s}_prev" for s in cell.state]
    loop = numpy_reference.Backward(carried=lambda step, n_state: [step[k] for k in carried])

    def backward(da, caches):
        return numpy_reference.loop_backward(cell_backward, len(cell.state), keys,
                                             np.asarray(da), caches, loop)  # fmt: skip

    return backward


def _named(function: Callable, name: str) -> Callable:
    def named(*args, **kwargs):
        return function(*args, **kwargs)

    named.__name__ = name
    return named


def _x64(dtype):
    import jax

    return jax.enable_x64(np.dtype(dtype) == np.float64)


__all__ = ["assert_backward_agrees", "assert_cell_agrees", "assert_gradients_close"]
