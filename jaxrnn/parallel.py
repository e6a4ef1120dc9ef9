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

from jaxrnn._checks import as_array


def batch_mesh(devices=None, axis: str = "batch") -> Mesh:
    """A one-axis mesh over ``devices`` (default: every device JAX sees)."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("batch_mesh: `devices` is empty; a mesh needs at least one device")
    strangers = [d for d in devices if not isinstance(d, jax.Device)]
    if strangers:
        raise TypeError(
            f"batch_mesh: `devices` must be JAX devices (jax.devices()); got "
            f"{type(strangers[0]).__name__} {strangers[0]!r}"
        )
    return Mesh(np.array(devices), (axis,))


def shard_batch(mesh: Mesh, *arrays, axis: str = "batch"):
    """Place arrays in the documents' layout with their batch axis ``m`` (axis 1) split.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)``, ``da (n_a, m, T)``... all keep ``m`` on axis 1.
    ``m`` must be a multiple of the number of devices on the mesh axis.
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"shard_batch: `mesh` must be a jax.sharding.Mesh; got {type(mesh).__name__}"
        )
    if axis not in mesh.shape:
        raise ValueError(
            f"shard_batch: `axis` {axis!r} is not an axis of the mesh; its axes are "
            f"{list(mesh.shape)}"
        )
    size = mesh.shape[axis]
    out = []
    for i, array in enumerate(arrays):
        array = as_array("shard_batch", f"arrays[{i}]", array)
        if np.ndim(array) < 2:
            raise ValueError(
                f"shard_batch: `arrays[{i}]` has shape {np.shape(array)}; it needs a batch axis "
                f"m on axis 1, as x (n_x, m, T_x) and a0 (n_a, m) have"
            )
        if np.shape(array)[1] % size:
            raise ValueError(
                f"shard_batch: `arrays[{i}]` has shape {np.shape(array)}; its batch axis (axis 1) "
                f"must be a multiple of the {size} devices on mesh axis {axis!r}"
            )
        spec = PartitionSpec(None, axis, *([None] * (np.ndim(array) - 2)))
        out.append(jax.device_put(array, NamedSharding(mesh, spec)))
    return tuple(out)


def replicate(mesh: Mesh, tree):
    """Place a pytree (the parameters) whole on every device of the mesh."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))
