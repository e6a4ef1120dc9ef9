"""One process of a two-process run, for tests/test_distributed.py (not a test itself).

    python tests/distributed_child.py PROCESS_ID COORDINATOR OUT

``jaxrnn train --processes 2`` first (which joins the run), then, in the same run, the three
cells' gradients on a global batch made of both processes' examples: the manual backward,
``jax.grad`` through ``jaxrnn.custom_vjp``, the loss and ``jaxrnn.parallel.backward``.
Process 0 writes them to OUT/grads.npz. Exits 77 where the installed jaxlib has no CPU
collectives. The test starts it with two host devices (``XLA_FLAGS``) on the CPU
(``JAX_PLATFORMS``); importing it changes nothing.
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn import cli, custom_vjp, loss, parallel
from jaxrnn.cells import CELLS

#: the global batch: 8 examples, 4 in each process, 2 on each device
SIZES = {"n_x": 3, "n_a": 5, "n_y": 4, "m": 8, "T_x": 6}
STEPS = 20


def problem(name):
    """The same global problem in every process (and in the test's own)."""
    cell = CELLS[name]
    rng = np.random.default_rng(0)
    n_x, n_a, n_y, m, T_x = (SIZES[k] for k in ("n_x", "n_a", "n_y", "m", "T_x"))
    p = cell.random_parameters(rng, n_x, n_a, n_y, np.float32)
    x = rng.standard_normal((n_x, m, T_x)).astype(np.float32)
    a0 = rng.standard_normal((n_a, m)).astype(np.float32)
    da = rng.standard_normal((n_a, m, T_x)).astype(np.float32)
    labels = rng.integers(0, n_y, (m, T_x))
    return cell, p, x, a0, da, labels


def gradients(name, x, a0, p, da, labels_by_step):
    """The manual backward, jax.grad through the custom VJP, and the loss's gradients."""
    cell = CELLS[name]
    manual = jax.jit(lambda x, a0, p, da: cell.backward(da, cell.forward(x, a0, p)[-1]))
    through = jax.jit(jax.grad(
        lambda x, a0, p, da: jnp.sum(da * custom_vjp.of(cell)(x, a0, p)[0]), (0, 1, 2)
    ))  # fmt: skip
    of_loss = jax.jit(lambda x, a0, p, t: loss.loss_and_gradients(cell, x, a0, p, t.T))
    once = parallel.backward(cell, parallel.batch_mesh())
    return {
        "manual": manual(x, a0, p, da),
        "custom_vjp": through(x, a0, p, da),
        "loss": of_loss(x, a0, p, labels_by_step),
        "parallel.backward": once(x, a0, p, da),
    }


def main(process_id, coordinator, out):
    argv = ["train", "--cell", "gru", "--steps", str(STEPS), "--hidden", "16", "--processes",
            "2", "--process-id", str(process_id), "--coordinator", coordinator,
            "--save", os.path.join(out, f"model{process_id}.npz")]  # fmt: skip
    try:
        status = cli.main(argv)
    except Exception as err:  # a jaxlib without gloo says so when the processes meet
        if "gloo" in str(err).lower() or "collectives" in str(err).lower():
            print(f"no CPU collectives: {err}", file=sys.stderr)
            sys.exit(77)
        raise
    assert status == 0
    mesh = parallel.batch_mesh()
    assert jax.process_count() == 2 and mesh.shape["batch"] == 4
    results = {}
    for name in ("rnn", "lstm", "gru"):
        cell, p, x, a0, da, labels = problem(name)
        own = parallel.local_part(mesh, x, a0, da, labels.T)
        xs, a0s, das, labels_by_step = parallel.shard_batch(mesh, *own)
        assert xs.shape == x.shape and not xs.is_fully_addressable  # both processes' examples
        found = gradients(name, xs, a0s, parallel.replicate(mesh, p), das, labels_by_step)
        for key, value in jax.tree_util.tree_flatten_with_path(parallel.gather(found))[0]:
            results[f"{name}/{jax.tree_util.keystr(key)}"] = value
    if process_id == 0:
        np.savez(os.path.join(out, "grads.npz"), **results)
    print("ok")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
