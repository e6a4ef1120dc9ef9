"""The recurrences linear in the state by their parallel scan against the step-by-step path,
and against the LSTM's fast path: forward + backward of ``J = sum(da * a)``, float32.

    python benchmarks/linear_scan.py                       # T = 1,000, 10,000 and 100,000
    python benchmarks/linear_scan.py --T 1000 10000 --repeats 7

For each T and way: the median time of one jitted forward + backward (after a warm-up call
that compiles), and the temporary memory XLA allocates for it (``memory_analysis``). The
parallel scan has depth log T and does about twice the arithmetic; on a CPU of two cores it
cannot turn the depth into time, on an accelerator it can (run the same script there).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxrnn
from jaxrnn.cells import lru, mingru, minlstm

SIZES = {"n_x": 64, "n_a": 128, "m": 8}


def ways(p_mingru, p_minlstm, p_lstm, p_lru):
    """``{name: function(x, a0, da) -> gradients}``, each jitted as a whole."""

    def parallel(module, cell, p):
        forward = getattr(module, f"{cell}_parallel_forward")
        backward = getattr(module, f"{cell}_parallel_backward")
        return lambda x, a0, da: backward(da, forward(x, a0, p)[-1])

    def sequential(cell, p):
        return lambda x, a0, da: cell.backward(da, cell.forward(x, a0, p)[-1])

    def lru_way(parallel):
        def run(x, a0, da):
            a0 = a0.astype(jnp.complex64)
            forward = lru.lru_parallel_forward(x, a0, p_lru, parallel=parallel)
            return lru.lru_parallel_backward(da.astype(jnp.complex64), forward[-1],
                                             parallel=parallel)  # fmt: skip

        return run

    return {
        "minGRU parallel": parallel(mingru, "mingru", p_mingru),
        "minGRU step by step": sequential(mingru.MINGRU, p_mingru),
        "minLSTM parallel": parallel(minlstm, "minlstm", p_minlstm),
        "minLSTM step by step": sequential(minlstm.MINLSTM, p_minlstm),
        "LRU parallel": lru_way(True),
        "LRU step by step": lru_way(False),
        # the cells' own sequence functions on the scan: documents' caches, every step's cache
        # by its cell_forward, the parameter gradients of all steps at once
        "minGRU parallel (cell)": sequential(mingru.MINGRU.parallel_scan, p_mingru),
        "minLSTM parallel (cell)": sequential(minlstm.MINLSTM.parallel_scan, p_minlstm),
        "LRU parallel (cell)": sequential(lru.LRU.parallel_scan, p_lru),
        "LSTM fast path": sequential(jaxrnn.cells.LSTM, p_lstm),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--T", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="ways whose name contains one of these")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_x, n_a, m = SIZES["n_x"], SIZES["n_a"], SIZES["m"]
    params = [cell.random_parameters(rng, n_x, n_a, 2, np.float32, scale=0.1)
              for cell in (mingru.MINGRU, minlstm.MINLSTM, jaxrnn.cells.LSTM)]  # fmt: skip
    params.append(lru.random_parameters(rng, n_x, n_a, 2, np.float32))
    print(f"{jax.devices()[0].device_kind}, n_x={n_x}, n_a={n_a}, m={m}, float32, "
          f"forward + backward, median of {args.repeats}")  # fmt: skip
    print(f"{'T':>8}  {'way':<22} {'median':>10} {'XLA temp':>10}")
    for T in args.T:
        x = jnp.asarray(rng.standard_normal((n_x, m, T)), jnp.float32)
        a0 = jnp.zeros((n_a, m), jnp.float32)
        da = jnp.asarray(rng.standard_normal((n_a, m, T)), jnp.float32)
        medians = {}
        for name, way in ways(*params).items():
            if args.only and not any(o in name for o in args.only):
                continue
            compiled = jax.jit(way).lower(x, a0, da).compile()
            temp = compiled.memory_analysis().temp_size_in_bytes
            jax.block_until_ready(compiled(x, a0, da))
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                jax.block_until_ready(compiled(x, a0, da))
                times.append(time.perf_counter() - start)
            medians[name] = statistics.median(times)
            print(f"{T:>8}  {name:<22} {medians[name] * 1e3:>8.1f}ms {temp / 2**20:>8.0f}MB",
                  flush=True)  # fmt: skip
        for name, median in medians.items():
            sequential = medians.get(name.split(" parallel")[0] + " step by step")
            if "parallel" in name and sequential:
                print(f"{T:>8}  {name} over step by step: {median / sequential:.2f}x")


if __name__ == "__main__":
    main()
