"""Where the time of one jitted forward + backward goes, per compiled kernel.

    python benchmarks/profile.py [lstm|rnn|gru] [small|middle|large] [--calls 10] [--top 25]

Runs ``backward(da, forward(x, a0, p)[-1])`` (as ``bench.py``'s "jaxrnn manual") under
``jax.profiler.trace``, reads the Perfetto trace it writes, and prints the kernels by total time
per call: for the kernels inside a scan, how many run per call and how long each takes. Kernels
that XLA runs side by side overlap, so the column does not add up to the call's time.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.cells import CELLS

SIZES = {"small": (3, 5, 10, 7), "middle": (64, 128, 32, 100), "large": (128, 256, 64, 200)}
#: trace events of the runtime and of Python, not of compiled kernels
NOT_KERNELS = ("ThunkExecutor", "$", "Pjit", "Slinky", "ExecuteHelper", "while.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cell", nargs="?", default="lstm", choices=sorted(CELLS))
    parser.add_argument("size", nargs="?", default="middle", choices=list(SIZES))
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    n_x, n_a, m, T = SIZES[args.size]
    cell, rng = CELLS[args.cell], np.random.default_rng(0)
    p = cell.random_parameters(rng, n_x, n_a, 10, np.float32, scale=1 / np.sqrt(n_a + n_x))
    p = {k: jnp.asarray(v) for k, v in p.items()}
    x = jnp.asarray(rng.standard_normal((n_x, m, T)), jnp.float32)
    a0 = jnp.zeros((n_a, m), jnp.float32)
    da = jnp.asarray(rng.standard_normal((n_a, m, T)), jnp.float32)
    f = jax.jit(lambda x, a0, p, da: cell.backward(da, cell.forward(x, a0, p)[-1]))
    for _ in range(3):
        jax.block_until_ready(f(x, a0, p, da))
    with tempfile.TemporaryDirectory() as directory:
        with jax.profiler.trace(directory, create_perfetto_trace=True):
            for _ in range(args.calls):
                jax.block_until_ready(f(x, a0, p, da))
        (path,) = glob.glob(f"{directory}/**/*.trace.json.gz", recursive=True)
        events = json.load(gzip.open(path))["traceEvents"]
    total = collections.defaultdict(lambda: [0, 0.0])
    for e in events:
        if e.get("ph") == "X" and not e["name"].startswith(NOT_KERNELS):
            total[e["name"]][0] += 1
            total[e["name"]][1] += e["dur"]
    print(f"{args.cell} {SIZES[args.size]}, forward + manual backward, {args.calls} calls")
    print(f"{'ms per call':>12} {'runs per call':>14} {'us each':>9}  kernel")
    ranked = sorted(total.items(), key=lambda kv: -kv[1][1])
    for name, (count, microseconds) in ranked[: args.top]:
        print(
            f"{microseconds / args.calls / 1e3:12.3f} {count / args.calls:14.0f} "
            f"{microseconds / count:9.1f}  {name}"
        )


if __name__ == "__main__":
    main()
