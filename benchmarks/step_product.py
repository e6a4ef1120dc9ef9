"""The per-step product of a recurrent scan, the floor of its time on a CPU, in one process.

    python benchmarks/step_product.py [--n-a 128] [--m 32] [--steps 100] [--seconds 2]

Times ``T`` steps of ``a = tanh((W_a @ a)[:n_a])`` with ``W_a`` of shape ``(4 n_a, n_a)`` (the
LSTM's recurrent product; at the defaults that of the middle benchmark size) as a jitted
``lax.scan``, once as XLA compiles it by default and once with its Eigen dot path
(``compiler_options={"xla_cpu_experimental_ynn_fusion_type": ""}``), and the same loop in
torch with ``torch.mm`` (if installed). Prints the median time per step of each, taking turns.

Then the cost of a kernel in a scan's step: ``T`` steps of ``k`` chained elementwise kernels on
an ``(n_a, m)`` state (``optimization_barrier`` keeps XLA from fusing them into one), for
k = 1, 2, 4, 8; the growth per kernel is what each separate kernel of a step costs.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

EIGEN = {"xla_cpu_experimental_ynn_fusion_type": ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-a", type=int, default=128)
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    n_a, m, T = args.n_a, args.m, args.steps
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((4 * n_a, n_a)) / np.sqrt(n_a)).astype(np.float32)
    a0 = rng.standard_normal((n_a, m)).astype(np.float32)

    def scan(w, a0):
        return lax.scan(lambda a, _: (jnp.tanh((w @ a)[:n_a]), None), a0, None, length=T)[0]

    candidates = {}
    for label, options in [("XLA, default", {}), ("XLA, Eigen dots", EIGEN)]:
        f = jax.jit(scan, compiler_options=options)
        wj, aj = jnp.asarray(w), jnp.asarray(a0)
        candidates[label] = lambda f=f, wj=wj, aj=aj: jax.block_until_ready(f(wj, aj))
    try:
        import torch

        wt, at = torch.from_numpy(w), torch.from_numpy(a0)

        def torch_loop():
            a = at
            for _ in range(T):
                a = torch.tanh(torch.mm(wt, a)[:n_a])
            return a

        candidates[f"torch.mm ({torch.get_num_threads()} threads)"] = torch_loop
    except ImportError:
        print("torch not installed: its row is skipped")

    times = {label: [] for label in candidates}
    for fn in candidates.values():
        fn()  # compile
    for _ in range(5):
        for label, fn in candidates.items():
            deadline = time.perf_counter() + args.seconds / 5
            while len(times[label]) < 3 or time.perf_counter() < deadline:
                start = time.perf_counter()
                fn()
                times[label].append(time.perf_counter() - start)
    flop = 2 * 4 * n_a * n_a * m
    print(f"({4 * n_a}, {n_a}) x ({n_a}, {m}) per step, {T} steps, float32")
    for label, ts in times.items():
        per_step = statistics.median(ts) / T
        print(f"{label:24} {per_step * 1e6:7.1f} us/step  {flop / per_step / 1e9:6.1f} GFLOP/s")

    print(f"k chained elementwise kernels on ({n_a}, {m}) per step, {T} steps")
    for k, per_step in kernel_chain(a0, T, args.seconds).items():
        print(f"k = {k:<20} {per_step * 1e6:7.1f} us/step")


def kernel_chain(a0, T: int, seconds: float) -> dict:
    """``{k: median seconds per step}`` of a scan whose step is ``k`` separate kernels."""

    def scan(a, k):
        def step(a, _):
            for i in range(k):
                a = lax.optimization_barrier(jnp.tanh(a) + 0.1 * i)
            return a, None

        return lax.scan(step, a, None, length=T)[0]

    a = jnp.asarray(a0)
    fns = {k: jax.jit(functools.partial(scan, k=k)) for k in (1, 2, 4, 8)}
    times = {k: [] for k in fns}
    for fn in fns.values():
        jax.block_until_ready(fn(a))  # compile
    for _ in range(5):
        for k, fn in fns.items():
            deadline = time.perf_counter() + seconds / 5
            while len(times[k]) < 3 or time.perf_counter() < deadline:
                start = time.perf_counter()
                jax.block_until_ready(fn(a))
                times[k].append(time.perf_counter() - start)
    return {k: statistics.median(ts) / T for k, ts in times.items()}


if __name__ == "__main__":
    main()
