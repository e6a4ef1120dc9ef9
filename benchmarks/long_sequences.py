"""Memory and time of a long LSTM sequence, forward + backward, with and without checkpointing.

    python benchmarks/long_sequences.py [--T 10000] [--repeats 3]

Each configuration runs in a fresh process, so that its peak resident memory (``ru_maxrss``) is
its own; a process that only imports JAX and builds the inputs gives the baseline to subtract.
XLA's own count of the compiled program's temporary buffers is printed beside it. Times are the
median of ``--repeats`` runs after one compiling run.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "baseline (inputs only)": None,
    "documents API: lstm_forward + lstm_backward": "documents",
    "custom VJP, every step's cache kept": "none",
    "custom VJP, checkpoint='sqrt'": "sqrt",
}


def run_one(mode: str, n_x: int, n_a: int, m: int, T: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    import jaxrnn
    from jaxrnn import custom_vjp
    from jaxrnn.cells import LSTM

    rng = np.random.default_rng(0)
    p = {k: jnp.asarray(v) for k, v in LSTM.random_parameters(rng, n_x, n_a, 10, scale=0.1).items()}
    x = jnp.asarray(rng.standard_normal((n_x, m, T), np.float32))
    a0 = jnp.zeros((n_a, m), jnp.float32)
    da = jnp.asarray(rng.standard_normal((n_a, m, T), np.float32))
    if mode is None:
        jax.block_until_ready((x, da))
        return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    if mode == "documents":

        def step(x, a0, p, da):
            caches = jaxrnn.lstm_forward(x, a0, p)[-1]
            return jaxrnn.lstm_backward(da, caches)

        compiled = None
    else:
        checkpoint = None if mode == "none" else "sqrt"

        def loss(x, a0, p, da):
            return jnp.sum(da * custom_vjp.lstm(x, a0, p, checkpoint=checkpoint)[0])

        step = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
        compiled = step.lower(x, a0, p, da).compile()
    start = time.perf_counter()
    jax.block_until_ready(step(x, a0, p, da))
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(step(x, a0, p, da))
        times.append(time.perf_counter() - start)
    out = {
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "first_s": first,
        "median_s": statistics.median(times),
    }
    analysis = compiled.memory_analysis() if compiled is not None else None
    if analysis is not None:
        out["xla_temp_mb"] = analysis.temp_size_in_bytes / 2**20
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n_x", type=int, default=64)
    parser.add_argument("--n_a", type=int, default=128)
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--T", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = (args.n_x, args.n_a, args.m, args.T, args.repeats)
    if args.one is not None:
        print(json.dumps(run_one(None if args.one == "-" else args.one, *sizes)))
        return
    print(f"LSTM n_x={args.n_x} n_a={args.n_a} m={args.m} T={args.T}, float32, forward + backward")
    results = {}
    for label, mode in CONFIGS.items():
        command = [sys.executable, __file__, "--one", mode or "-", "--n_x", str(args.n_x),
                   "--n_a", str(args.n_a), "--m", str(args.m), "--T", str(args.T),
                   "--repeats", str(args.repeats)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    base = results["baseline (inputs only)"]["peak_rss_mb"]
    print(f"{'configuration':<46} {'peak RSS - baseline':>20} {'XLA temp':>10} {'median':>9}")
    for label, r in results.items():
        if "median_s" not in r:
            continue
        temp = f"{r['xla_temp_mb']:.0f} MB" if "xla_temp_mb" in r else "-"
        print(f"{label:<46} {r['peak_rss_mb'] - base:>17.0f} MB {temp:>10} {r['median_s']:>8.2f}s")
    print(f"baseline peak RSS {base:.0f} MB")


if __name__ == "__main__":
    main()
