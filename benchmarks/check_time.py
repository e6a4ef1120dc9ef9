"""Where the time of ``jaxrnn check`` goes, row by row: tracing, lowering to MLIR and XLA's
compilation (from ``jax.monitoring``'s compile events) against everything else, chiefly
execution. ``--cache DIR`` uses JAX's persistent compilation cache there, as the CLI does.

    python benchmarks/check_time.py                 # every row, no persistent cache
    python benchmarks/check_time.py --cache /tmp/c  # run twice: the second run reads the cache

XLA is set as ``jaxrnn check`` sets it (``jaxrnn.cli.xla.fast_compile_flags``);
``JAXRNN_FAST_COMPILE=off`` measures XLA's defaults.
"""

from __future__ import annotations

import argparse
import collections
import time

import jax
import numpy as np

from jaxrnn import cells
from jaxrnn.cli import report, xla

EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "compile",
    "/jax/compilation_cache/cache_retrieval_time_sec": "cache read",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="a persistent compilation cache folder")
    parser.add_argument("--cell", nargs="+", default=list(cells.CELLS))
    parser.add_argument("--level", nargs="+", default=list(report.LEVELS))
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"])
    args = parser.parse_args()
    xla.use_fast_compile()  # as the command does, before JAX's backend starts
    if args.cache:
        xla.persistent_cache(args.cache)
    spent = collections.Counter()
    counts = collections.Counter()

    def listen(event, duration, **_):
        if event in EVENTS:
            spent[EVENTS[event]] += duration
            counts[EVENTS[event]] += 1

    jax.monitoring.register_event_duration_secs_listener(listen)
    device = jax.devices()[0]
    columns = ["cell", "level", "dtype", "wall s", "trace", "lower", "compile", "cache read",
               "other", "programs"]  # fmt: skip
    print(" ".join(f"{c:>10}" for c in columns))
    total = collections.Counter()
    start = time.perf_counter()
    for name in args.cell:
        cell = cells.CELLS[name]
        for level in args.level:
            if level == "initial" and len(cell.state) == 1:
                continue
            for dtype in args.dtype:
                spent.clear()
                counts.clear()
                began = time.perf_counter()
                row = report.run_row(device, cell, level, np.dtype(dtype))
                wall = time.perf_counter() - began
                assert row["result"] == "PASS", row
                parts = [spent[k] for k in ("trace", "lower", "compile", "cache read")]
                other = wall - sum(parts[:3])  # the cache read is part of the compile event
                total.update(
                    dict(
                        zip(
                            [
                                "wall",
                                "trace",
                                "lower",
                                "compile",
                                "cache read",
                                "other",
                                "programs",
                            ],
                            [wall, *parts, other, counts["compile"]],
                            strict=True,
                        )
                    )
                )
                print(" ".join(f"{v:>10}" for v in (name, level, dtype)),
                      " ".join(f"{v:>10.2f}" for v in (wall, *parts, other)),
                      f"{counts['compile']:>10}")  # fmt: skip
    print(f"\ntotal {time.perf_counter() - start:.1f} s:",
          ", ".join(f"{k} {v:.1f}" if k != "programs" else f"{v} programs"
                    for k, v in total.items()))  # fmt: skip


if __name__ == "__main__":
    main()
