"""Data parallelism: the batch axis ``m`` split over a mesh of devices.

jaxrnn's functions are jitted JAX code, so they need no change to run data-parallel: place the
inputs with their batch axis sharded and XLA's partitioner (GSPMD) splits every step's products
by examples, keeping the parameters replicated and summing the parameter gradients across
devices. Every example's recurrence is independent of the others', so nothing else crosses
devices.

>>> import jax, numpy as np, jaxrnn
>>> from jaxrnn import parallel
>>> mesh = parallel.batch_mesh()  # every device JAX sees, on one axis "batch"
>>> p = jaxrnn.cells.RNN.random_parameters(np.random.default_rng(0), 3, 4, 2)
>>> x, a0 = parallel.shard_batch(mesh, np.ones((3, 8, 5), np.float32), np.zeros((4, 8), np.float32))
>>> a, y_pred, caches = jax.jit(jaxrnn.rnn_forward)(x, a0, p)
>>> a.shape
(4, 8, 5)
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def batch_mesh(devices=None, axis: str = "batch") -> Mesh:
    """A one-axis mesh over ``devices`` (default: every device JAX sees)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), (axis,))


def shard_batch(mesh: Mesh, *arrays, axis: str = "batch"):
    """Place arrays in the documents' layout with their batch axis ``m`` (axis 1) split.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)``, ``da (n_a, m, T)``... all keep ``m`` on axis 1.
    ``m`` must be a multiple of the number of devices on the mesh axis.
    """
    size = mesh.shape[axis]
    out = []
    for i, array in enumerate(arrays):
        if np.ndim(array) < 2 or np.shape(array)[1] % size:
            raise ValueError(
                f"shard_batch: array {i} has shape {np.shape(array)}; its batch axis (axis 1) "
                f"must be a multiple of the {size} devices on mesh axis {axis!r}"
            )
        spec = PartitionSpec(None, axis, *([None] * (np.ndim(array) - 2)))
        out.append(jax.device_put(array, NamedSharding(mesh, spec)))
    return tuple(out)


def replicate(mesh: Mesh, tree):
    """Place a pytree (the parameters) whole on every device of the mesh."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))
