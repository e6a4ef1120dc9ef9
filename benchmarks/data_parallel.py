"""Scaling of data parallelism: LSTM forward + manual backward with the batch split over devices.

    python benchmarks/data_parallel.py [--devices 1 2 4] [--platform cpu]

Each device count runs in its own process. On a CPU the "devices" are host devices made by
``XLA_FLAGS=--xla_force_host_platform_device_count=N``: they share the machine's cores, so the
speed-up is bounded by the core count (2 on the CI machine); on several GPUs each is a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def run_one(n_x, n_a, m, T, seconds):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxrnn import parallel
    from jaxrnn.cells import LSTM

    rng = np.random.default_rng(0)
    p = LSTM.random_parameters(rng, n_x, n_a, 10, np.float32, scale=1 / np.sqrt(n_a + n_x))
    x = rng.standard_normal((n_x, m, T)).astype(np.float32)
    a0 = np.zeros((n_a, m), np.float32)
    da = rng.standard_normal((n_a, m, T)).astype(np.float32)
    mesh = parallel.batch_mesh()
    x, a0, da = parallel.shard_batch(mesh, x, a0, da)
    p = parallel.replicate(mesh, {k: jnp.asarray(v) for k, v in p.items()})
    step = jax.jit(lambda x, a0, p, da: LSTM.backward(da, LSTM.forward(x, a0, p)[-1]))
    jax.block_until_ready(step(x, a0, p, da))
    times, deadline = [], time.perf_counter() + seconds
    while len(times) < 5 or time.perf_counter() < deadline:
        start = time.perf_counter()
        jax.block_until_ready(step(x, a0, p, da))
        times.append(time.perf_counter() - start)
    return {"devices": len(jax.devices()), "median_s": statistics.median(times)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--platform", default="cpu", help="cpu: host devices made by XLA_FLAGS")
    parser.add_argument("--size", type=int, nargs=4, default=[64, 128, 64, 100],
                        metavar=("n_x", "n_a", "m", "T"))  # fmt: skip
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.size, args.seconds)))
        return
    print(f"LSTM (n_x, n_a, m, T) = {tuple(args.size)}, float32, forward + manual backward")
    base = None
    for n in args.devices:
        env = dict(os.environ)
        if args.platform == "cpu":
            env |= {
                "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}",
                "JAX_PLATFORMS": "cpu",
            }
        else:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, range(n)))
        command = [sys.executable, __file__, "--one", "--seconds", str(args.seconds),
                   "--size", *map(str, args.size)]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        base = base or result["median_s"]
        print(f"{result['devices']} device(s): {result['median_s'] * 1e3:8.2f} ms, "
              f"speed-up {base / result['median_s']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
