"""Data parallelism: the batch axis ``m`` split over a mesh of devices, in one process or
several.

jaxrnn's functions are jitted JAX code, so they run on inputs placed with their batch axis
sharded, with the same results: XLA's partitioner (GSPMD) decides what crosses devices, and for
these programs it communicates at every time step (benchmarks/README.md). Every example's
recurrence is independent of the others', so only the parameter gradients' sum need cross
devices: :func:`backward` runs each device's examples on their own and sums them once.

>>> import jax, numpy as np, jaxrnn
>>> from jaxrnn import parallel
>>> mesh = parallel.batch_mesh()  # every device JAX sees, on one axis "batch"
>>> p = jaxrnn.cells.RNN.random_parameters(np.random.default_rng(0), 3, 4, 2)
>>> x, a0 = parallel.shard_batch(mesh, np.ones((3, 8, 5), np.float32), np.zeros((4, 8), np.float32))
>>> a, y_pred, caches = jax.jit(jaxrnn.rnn_forward)(x, a0, p)
>>> a.shape
(4, 8, 5)

Several processes (one per host, or per accelerator) are joined by JAX's distributed runtime:
each calls :func:`initialize` (or ``jax.distributed.initialize`` itself) as the first thing
it does, and then runs the same program. :func:`batch_mesh` is then over every process's
devices, :func:`shard_batch` makes the global batch from each process's own examples
(:func:`local_part` picks them out of a batch every process reads alike), :func:`replicate`
places the parameters on every device, and the same jitted functions run unchanged.
:func:`backward` is the documents' forward and backward with one sum of the parameter
gradients across devices per call, the least data parallelism must communicate (the plain
functions under XLA's partitioner communicate at every time step). :func:`gather` brings a
global result to every process. jaxrnn never starts the distributed runtime by itself.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxrnn._core.arguments import as_array, check_da_covers, check_shapes, require_parameters


def initialize(
    coordinator: str | None = None,
    processes: int | None = None,
    process_id: int | None = None,
    timeout: int = 300,
) -> None:
    """Join this process to the others of a run: ``jax.distributed.initialize``, with CPU
    collectives from gloo (JAX's CPU runtime has none by default).

    With no arguments JAX finds the run from its environment (SLURM, Kubernetes, Open MPI...);
    otherwise give all three: ``coordinator`` as ``"host:port"`` (process 0's address, the same
    in every process), ``processes`` and this process's ``process_id``. Call it before any other
    JAX work; it sets JAX's global configuration, as an application does.
    """
    given = [v is not None for v in (coordinator, processes, process_id)]
    if any(given) and not all(given):
        raise ValueError(
            "parallel.initialize: give `coordinator`, `processes` and `process_id` together, or "
            f"none of them (JAX then reads the cluster's environment); got coordinator="
            f"{coordinator!r}, processes={processes!r}, process_id={process_id!r}"
        )
    if all(given):
        if not isinstance(processes, int) or processes < 1:
            raise ValueError(
                f"parallel.initialize: `processes` must be at least 1; got {processes!r}"
            )
        if not isinstance(process_id, int) or not 0 <= process_id < processes:
            raise ValueError(
                f"parallel.initialize: `process_id` must be in 0..{processes - 1}; got "
                f"{process_id!r}"
            )
    # CPU devices across processes need a collectives library (GPUs use NCCL by themselves)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=processes, process_id=process_id,
        initialization_timeout=timeout,
    )  # fmt: skip


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
    In one process the arrays hold the whole batch, and ``m`` must be a multiple of the
    number of devices on the mesh axis. In a run of several processes each passes its own
    examples, the same number in every process and a multiple of its devices on the mesh: the
    global batch is theirs side by side, in the order of the processes' devices on the mesh.
    """
    _check_mesh("shard_batch", mesh, axis)
    size = mesh.shape[axis]
    several = jax.process_count() > 1
    local = sum(d.process_index == jax.process_index() for d in mesh.devices.flat)
    out = []
    for i, array in enumerate(arrays):
        array, sharding = _batch("shard_batch", i, array, mesh, axis)
        if not several:
            if np.shape(array)[1] % size:
                raise ValueError(
                    f"shard_batch: `arrays[{i}]` has shape {np.shape(array)}; its batch axis "
                    f"(axis 1) must be a multiple of the {size} devices on mesh axis {axis!r}"
                )
            out.append(jax.device_put(array, sharding))
            continue
        if not local or np.shape(array)[1] % local:
            raise ValueError(
                f"shard_batch: `arrays[{i}]` has shape {np.shape(array)}: this process's "
                f"examples; their number (axis 1) must be a multiple of this process's {local} "
                f"devices on mesh axis {axis!r}"
            )
        shape = list(np.shape(array))
        shape[1] = shape[1] // local * size
        out.append(
            jax.make_array_from_process_local_data(sharding, np.asarray(array), tuple(shape))
        )
    return tuple(out)


def local_part(mesh: Mesh, *arrays, axis: str = "batch"):
    """This process's examples of a whole batch (axis 1), the part :func:`shard_batch` wants
    from it: for a batch every process builds alike (the same data, the same seed). In one
    process, the arrays themselves."""
    _check_mesh("local_part", mesh, axis)
    out = []
    for i, array in enumerate(arrays):
        array, sharding = _batch("local_part", i, array, mesh, axis)
        if np.shape(array)[1] % mesh.shape[axis]:
            raise ValueError(
                f"local_part: `arrays[{i}]` has shape {np.shape(array)}; its batch axis (axis 1) "
                f"must be a multiple of the {mesh.shape[axis]} devices on mesh axis {axis!r}"
            )
        columns = sorted(
            index[1].indices(np.shape(array)[1])[:2]
            for index in sharding.addressable_devices_indices_map(np.shape(array)).values()
        )
        if any(a[1] != b[0] for a, b in zip(columns, columns[1:], strict=False)):
            raise ValueError(
                "local_part: this process's devices are not side by side on the mesh, so its "
                "examples are no one block: build the mesh with each process's devices together "
                "(batch_mesh() does)"
            )
        out.append(np.asarray(array)[:, columns[0][0] : columns[-1][1]])
    return tuple(out)


def gather(tree):
    """A pytree of (global) arrays as NumPy arrays, whole, in every process."""
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, tree)
    from jax.experimental import multihost_utils

    return jax.tree.map(
        lambda leaf: np.asarray(multihost_utils.process_allgather(leaf, tiled=True)), tree
    )


def _batch(fn: str, i: int, array, mesh: Mesh, axis: str):
    """``arrays[i]`` as an array with a batch axis 1, and the sharding that splits it there."""
    array = as_array(fn, f"arrays[{i}]", array)
    if np.ndim(array) < 2:
        raise ValueError(
            f"{fn}: `arrays[{i}]` has shape {np.shape(array)}; it needs a batch axis m on axis "
            f"1, as x (n_x, m, T_x) and a0 (n_a, m) have"
        )
    spec = PartitionSpec(None, axis, *([None] * (np.ndim(array) - 2)))
    return array, NamedSharding(mesh, spec)


def _check_mesh(fn: str, mesh, axis: str) -> None:
    if not isinstance(mesh, Mesh):
        raise TypeError(f"{fn}: `mesh` must be a jax.sharding.Mesh; got {type(mesh).__name__}")
    if axis not in mesh.shape:
        raise ValueError(
            f"{fn}: `axis` {axis!r} is not an axis of the mesh; its axes are {list(mesh.shape)}"
        )


def backward(cell, mesh: Mesh, axis: str = "batch"):
    """``f(x, a0, parameters, da) -> gradients``: the cell's forward and manual backward, data
    parallel with one sum of the parameter gradients across devices per call.

    Placed with :func:`shard_batch` and :func:`replicate`, the plain jitted functions run
    data-parallel too, but XLA's partitioner then communicates inside the time loop (the
    generic path sums the gradient accumulators across devices at every step; the fast path
    gathers whole sequences), ``T_x`` times what is needed. Here each device runs the cell on its
    own examples (``jax.shard_map``) and the parameter gradients are summed once; ``dx`` and
    ``da0`` stay split by examples, as the inputs are. The gradients are
    those of ``cell.backward(da, cell.forward(x, a0, parameters)[-1])``.
    """
    from jaxrnn.cells import resolve

    cell = resolve("parallel.backward", cell)
    _check_mesh("parallel.backward", mesh, axis)
    by_example = PartitionSpec(None, axis)
    sequence = PartitionSpec(None, axis, None)

    def local(x, a0, parameters, da):
        gradients = cell.backward(da, cell.forward(x, a0, parameters)[-1])
        return {k: v if k in ("dx", "da0") else jax.lax.psum(v, axis)
                for k, v in gradients.items()}  # fmt: skip

    out = {"dx": sequence, "da0": by_example}
    out |= {f"d{k}": PartitionSpec() for k in cell.gradient_keys}
    # check_vma off: the cells' scans start from zeros that are the same on every device
    mapped = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(sequence, by_example,
                     PartitionSpec(), sequence), out_specs=out, check_vma=False))  # fmt: skip

    def gradients(x, a0, parameters, da):
        # the caller's whole arrays checked here: inside, each device sees its own part
        fn = "parallel.backward"
        data = [(name, as_array(fn, name, v), dims) for name, v, dims in
                (("x", x, "n_x m T_x"), ("a0", a0, "n_a m"), ("da", da, "n_a m T_da"))]  # fmt: skip
        p = require_parameters(fn, parameters, list(cell.parameter_shapes))
        check_shapes(fn, [*((f"parameters['{k}']", p[k], d)
                            for k, d in cell.parameter_shapes.items()), *data])  # fmt: skip
        check_da_covers(fn, data[2][1], np.shape(x)[-1], np.shape(x))
        m, devices = np.shape(x)[1], mesh.shape[axis]
        if m % devices:
            raise ValueError(
                f"{fn}: `x` has m = {m} examples, which the mesh's {devices} devices along "
                f"{axis!r} cannot share equally; give a multiple of {devices} examples"
            )
        return mapped(x, a0, parameters, da)

    gradients.lower = mapped.lower  # as jax.jit's functions have, to read the program
    return gradients


def replicate(mesh: Mesh, tree):
    """Place a pytree (the parameters) whole on every device of the mesh; in a run of several
    processes, each passes the same values."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


__all__ = [
    "backward", "batch_mesh", "gather", "initialize", "local_part", "replicate", "shard_batch"
]  # fmt: skip
