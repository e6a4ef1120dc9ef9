"""Data parallel over 4 host devices gives the single-device results. chex makes the host
devices (chex.set_n_cpu_devices), in a subprocess, because the count is fixed when JAX starts."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import chex
    chex.set_n_cpu_devices(4)
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    chex.assert_devices_available(4, "cpu")
    from jaxrnn import custom_vjp, parallel
    from jaxrnn.cells import CELLS
    mesh = parallel.batch_mesh()
    for name, cell in CELLS.items():
        rng = np.random.default_rng(0)
        p = cell.random_parameters(rng, 3, 5, 2, np.float64)
        x, a0 = rng.standard_normal((3, 8, 6)), rng.standard_normal((5, 8))
        da = rng.standard_normal((5, 8, 6))
        run = jax.jit(lambda x, a0, p, da: cell.backward(da, cell.forward(x, a0, p)[-1]))
        grad = jax.jit(jax.grad(
            lambda x, a0, p, da: jnp.sum(da * getattr(custom_vjp, name)(x, a0, p)[0]), (0, 1, 2)))
        single = run(x, a0, p, da), grad(x, a0, p, da)
        xs, a0s, das = parallel.shard_batch(mesh, x, a0, da)
        ps = parallel.replicate(mesh, p)
        sharded = run(xs, a0s, ps, das), grad(xs, a0s, ps, das)
        assert len(sharded[0]["dx"].sharding.device_set) == 4  # the work really is spread
        chex.assert_trees_all_close(sharded, single, rtol=1e-12, atol=1e-13)
        # parallel.backward: the same gradients, with one sum across devices, outside the loops
        once = parallel.backward(cell, mesh)
        chex.assert_trees_all_close(once(xs, a0s, ps, das), single[0], rtol=1e-12, atol=1e-13)
        split = jax.sharding.PartitionSpec(None, "batch", None)
        assert once(xs, a0s, ps, das)["dx"].sharding.spec == split  # dx stays split
        program = once.lower(xs, a0s, ps, das).compile().as_text()
        computation, found = None, []
        for line in program.splitlines():
            computation = line if line and not line.startswith(" ") else computation
            for op in ("all-reduce(", "all-gather(", "all-to-all(", "collective-permute("):
                if " " + op in line:
                    found.append((op, computation.startswith("ENTRY")))
        assert found == [("all-reduce(", True)], (name, found)
    print("ok")
    """
)


def test_four_host_devices_match_one():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_shard_batch_and_batch_mesh_refuse_bad_arguments():
    """Run on 2 host devices, where a batch of 3 does not divide (in a subprocess, as above)."""
    script = textwrap.dedent(
        """
        import chex
        chex.set_n_cpu_devices(2)
        import numpy as np, pytest
        from jaxrnn import parallel
        mesh = parallel.batch_mesh()
        assert mesh.shape["batch"] == 2
        from jaxrnn.cells import RNN
        once = parallel.backward(RNN, mesh)
        p = RNN.random_parameters(np.random.default_rng(0), 3, 5, 2)
        cases = [
            (lambda: parallel.shard_batch(mesh, np.ones((3, 3, 4))), ValueError,
             "multiple of the 2 devices"),
            (lambda: parallel.shard_batch(mesh, np.ones(3)), ValueError, "needs a batch axis"),
            (lambda: parallel.shard_batch(mesh, np.ones((3, 2)), axis="data"), ValueError,
             "'data' is not an axis of the mesh"),
            (lambda: parallel.shard_batch("mesh", np.ones((3, 2))), TypeError, "`mesh`"),
            (lambda: parallel.shard_batch(mesh, "abc"), TypeError, "arrays[0]"),
            (lambda: parallel.batch_mesh([]), ValueError, "`devices` is empty"),
            (lambda: parallel.batch_mesh([0, 1]), TypeError, "must be JAX devices"),
            # parallel.backward: the caller's own shapes, and a batch the devices cannot share
            (lambda: once(np.ones((3, 4, 5)), np.ones((4, 4)), p, np.ones((5, 4, 5))),
             ValueError, "`a0` has shape (4, 4); expected (n_a, m) = (5, 4)"),
            (lambda: once(np.ones((3, 3, 5)), np.ones((5, 3)), p, np.ones((5, 3, 5))),
             ValueError, "m = 3 examples, which the mesh's 2 devices"),
        ]
        for call, error, fragment in cases:
            with pytest.raises(error) as info:
                call()
            assert fragment in str(info.value), str(info.value)
        (x,) = parallel.shard_batch(mesh, [[1.0, 2.0], [3.0, 4.0]])  # a nested list is an array
        assert x.shape == (2, 2) and len(x.sharding.device_set) == 2
        print("ok")
        """
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_the_distributed_helpers_in_one_process():
    """In one process local_part is the whole batch and gather the arrays themselves; the
    distributed options go together and are checked before JAX is asked to join anything."""
    import numpy as np
    import pytest

    from jaxrnn import parallel

    mesh = parallel.batch_mesh()
    x = np.arange(24.0).reshape(2, 4, 3)
    (part,) = parallel.local_part(mesh, x)
    np.testing.assert_array_equal(part, x)
    (placed,) = parallel.shard_batch(mesh, part)
    np.testing.assert_array_equal(parallel.gather({"x": placed})["x"], x)
    with pytest.raises(ValueError, match="give `coordinator`, `processes` and `process_id`"):
        parallel.initialize("127.0.0.1:1234")
    with pytest.raises(ValueError, match="`process_id` must be in 0..1; got 2"):
        parallel.initialize("127.0.0.1:1234", 2, 2)
    with pytest.raises(ValueError, match=r"`arrays\[0\]` has shape \(3,\); it needs a batch axis"):
        parallel.local_part(mesh, np.ones(3))
