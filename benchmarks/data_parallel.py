"""Scaling of data parallelism: LSTM forward + manual backward with the batch split over devices.

    python benchmarks/data_parallel.py [--devices 1 2 4] [--platform cpu]
    python benchmarks/data_parallel.py --processes 2   # also: 2 processes joined by
                                                       # jax.distributed, one device each

Each device count runs in its own process. On a CPU the "devices" are host devices made by
``XLA_FLAGS=--xla_force_host_platform_device_count=N``: they share the machine's cores, so the
speed-up is bounded by the core count (2 on the CI machine); on several GPUs each is a GPU.
With ``--processes P``, P local processes with one CPU device each are joined by JAX's
distributed runtime (gloo's collectives over loopback), the batch split over all of them:
the figure beside the same device count in one process. Each line also gives the bytes of
parameter gradients summed across devices per step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def run_one(n_x, n_a, m, T, seconds, process=None, how="backward"):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxrnn import parallel
    from jaxrnn.cells import LSTM

    if process is not None:  # one of several processes: join them before any JAX work
        parallel.initialize(process["coordinator"], process["count"], process["id"])

    rng = np.random.default_rng(0)
    p = LSTM.random_parameters(rng, n_x, n_a, 10, np.float32, scale=1 / np.sqrt(n_a + n_x))
    x = rng.standard_normal((n_x, m, T)).astype(np.float32)
    a0 = np.zeros((n_a, m), np.float32)
    da = rng.standard_normal((n_a, m, T)).astype(np.float32)
    mesh = parallel.batch_mesh()
    # the same batch of m in every run: each process feeds its part
    x, a0, da = parallel.shard_batch(mesh, *parallel.local_part(mesh, x, a0, da))
    assert x.shape == (n_x, m, T)
    p = parallel.replicate(mesh, {k: jnp.asarray(v) for k, v in p.items()})
    if how == "backward":  # one sum of the parameter gradients per call
        step = parallel.backward(LSTM, mesh)
    else:  # the plain jitted functions, split by XLA's partitioner
        cell = LSTM.generic if how == "generic" else LSTM
        step = jax.jit(lambda x, a0, p, da: cell.backward(da, cell.forward(x, a0, p)[-1]))
    gradients = jax.block_until_ready(step(x, a0, p, da))
    compiled = step.lower(x, a0, p, da).compile().as_text()
    # what crosses devices: the collectives XLA's partitioner put in the program
    collectives = {op: compiled.count(f" {op}(") for op in ("all-reduce", "all-gather")}
    start = time.perf_counter()
    jax.block_until_ready(step(x, a0, p, da))
    first = time.perf_counter() - start
    if jax.process_count() > 1:  # every process must make the same number of calls
        from jax.experimental import multihost_utils

        first = float(np.max(multihost_utils.process_allgather(np.float64(first))))
    times = []
    for _ in range(max(5, int(seconds / first))):
        start = time.perf_counter()
        jax.block_until_ready(step(x, a0, p, da))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    if jax.process_count() > 1:  # every process timed its own calls: the slowest is the step's
        median = float(np.max(multihost_utils.process_allgather(np.float64(median))))
    # the parameter gradients: what data parallelism needs summed across devices per backward
    gradient_bytes = sum(v.size * v.dtype.itemsize for k, v in gradients.items()
                         if k not in ("dx", "da0"))  # fmt: skip
    return {"devices": len(jax.devices()), "processes": jax.process_count(),
            "median_s": median, "gradient_bytes": int(gradient_bytes), **collectives}  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--processes", type=int, default=1,
                        help="also run this many processes, one CPU device each")  # fmt: skip
    parser.add_argument("--platform", default="cpu", help="cpu: host devices made by XLA_FLAGS")
    parser.add_argument("--size", type=int, nargs=4, default=[64, 128, 64, 100],
                        metavar=("n_x", "n_a", "m", "T"))  # fmt: skip
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--how", choices=["backward", "fast", "generic"], default="backward",
        help="parallel.backward (default), or the plain jitted fast or generic path split by "
        "XLA's partitioner",
    )  # fmt: skip
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        process = json.loads(args.one) or None
        print(json.dumps(run_one(*args.size, args.seconds, process, args.how)))
        return
    how = {"backward": "parallel.backward", "fast": "fast path, partitioned by XLA",
           "generic": "generic path, partitioned by XLA"}[args.how]  # fmt: skip
    print(f"LSTM (n_x, n_a, m, T) = {tuple(args.size)}, float32, forward + manual backward: {how}")
    base = None
    runs = [(n, 1) for n in args.devices] + ([(1, args.processes)] if args.processes > 1 else [])
    for n, processes in runs:
        env = dict(os.environ)
        if args.platform == "cpu":
            env |= {
                "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}",
                "JAX_PLATFORMS": "cpu",
            }
        else:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, range(n)))
        coordinator = f"127.0.0.1:{_free_port()}"
        children = []
        for i in range(processes):
            process = (
                {"coordinator": coordinator, "count": processes, "id": i} if processes > 1 else {}
            )
            command = [sys.executable, __file__, "--one", json.dumps(process), "--seconds",
                       str(args.seconds), "--size", *map(str, args.size),
                       "--how", args.how]  # fmt: skip
            children.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
        outputs = [c.communicate(timeout=600)[0] for c in children]
        if any(c.returncode for c in children):
            raise SystemExit(f"a run of {processes} process(es) failed")
        result = json.loads(outputs[0].strip().splitlines()[-1])
        base = base or result["median_s"]
        print(f"{result['processes']} process(es), {result['devices']} device(s): "
              f"{result['median_s'] * 1e3:8.2f} ms, speed-up {base / result['median_s']:.2f}x, "
              f"{result['gradient_bytes']} bytes of parameter gradients; "
              f"{result['all-reduce']} all-reduce, {result['all-gather']} all-gather")  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
