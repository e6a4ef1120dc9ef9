"""Array layouts: the documents' (time last), the scan's (time first), and columns.

The documents keep time last, ``x (n_x, m, T_x)``. ``lax.scan`` iterates over a leading axis,
``(T_x, n_x, m)``. A sum over time and batch, such as ``sum_t dW_t``, is fastest as one matrix
product over columns, every example of every step a column: ``(n, T_x * m)``. The fast paths
(:class:`jaxrnn._core.cell.FastPath`) move between the three with these helpers, and keep every
step's gate gradients in :class:`GateColumns`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def time_major(x):
    """``(..., T)`` -> ``(T, ...)``: the layout ``lax.scan`` iterates over."""
    return jnp.moveaxis(x, -1, 0)


def time_last(x):
    """``(T, ...)`` -> ``(..., T)``: the documents' layout."""
    return jnp.moveaxis(x, 0, -1)


def as_columns(steps):
    """``(T, n, m)`` -> ``(n, T * m)``: every example of every step a column.

    Sums over time and batch such as ``sum_t d_t a_t^T`` are then one plain matrix product,
    which XLA runs far faster than a contraction over two separate axes.
    """
    return jnp.moveaxis(steps, 0, 1).reshape(steps.shape[1], -1)


def from_columns(columns, T: int):
    """``(n, T * m)`` -> ``(T, n, m)``, the inverse of :func:`as_columns`."""
    return jnp.moveaxis(columns.reshape(columns.shape[0], T, -1), 1, 0)


#: multiply-adds from which :func:`transposed_product` forms the transpose first (2**27)
LARGE_PRODUCT = 1 << 27


def transposed_product(w, d):
    """``w.T @ d``; for a large product, with ``w.T`` formed as an array of its own first.

    Written plainly, XLA folds the transpose into the product, which its CPU backend then runs
    through Eigen instead of YNNPACK, far slower for the largest products; for small ones the
    extra copy costs more than it saves (benchmarks/README.md). The barrier keeps the transpose
    a separate copy of ``w``.
    """
    if w.size * d.shape[-1] < LARGE_PRODUCT:
        return w.T @ d
    return lax.optimization_barrier(w.T) @ d


@jax.tree_util.register_pytree_node_class
class GateColumns:
    """One step's columns of the gate-gradient array that a fast path's step backward fills.

    ``array`` is ``(rows, T * m)`` (:func:`as_columns`'s layout); the step owns its ``m``
    columns from ``start`` on. A step backward writes its gate gradients there, one row band
    under another, with :meth:`write`, and reads bands back stacked with :meth:`rows` where a
    product needs them so: the arithmetic of ``jnp.concatenate(bands)`` without the
    concatenate, which XLA's CPU backend runs as a slow kernel of its own.
    """

    def __init__(self, array, start, m: int):
        self.array, self.start, self.m = array, start, m

    def write(self, *bands) -> GateColumns:
        """These columns with ``bands`` (``(n_i, m)`` each) written one under another from
        row 0."""
        array, row = self.array, 0
        for band in bands:
            array = lax.dynamic_update_slice(array, band, (row, self.start))
            row += band.shape[0]
        return GateColumns(array, self.start, self.m)

    def rows(self, start: int, stop: int):
        """Rows ``start ... stop`` of these columns, ``(stop - start, m)``."""
        return lax.dynamic_slice(self.array, (start, self.start), (stop - start, self.m))

    def tree_flatten(self):
        return (self.array, self.start), self.m

    @classmethod
    def tree_unflatten(cls, m, children):
        return cls(*children, m)
