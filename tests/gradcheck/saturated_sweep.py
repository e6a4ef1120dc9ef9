"""The sweep behind ``jaxrnn.gradcheck.tolerances.rounding_floor`` and ``ROUNDING_NOISE``: jaxrnn's
own (correct) backward passes checked on saturated problems, weights 3 to 300 times the usual, every
cell, cell and sequence level, float64 and float32. No check may say WRONG; it prints the
verdicts' count and the table of any WRONG one. Not part of the suite (minutes).

    python tests/gradcheck/saturated_sweep.py                     # seeds 0-2, small shapes
    python tests/gradcheck/saturated_sweep.py --offset 3 --large  # other seeds, n_a = 8, 12 steps
    JAXRNN_FAST_COMPILE=off python tests/gradcheck/saturated_sweep.py  # XLA's default codegen
"""

from __future__ import annotations

import argparse
import collections
import itertools

import numpy as np
from helpers import saturated_problem

from jaxrnn.cli import xla

SCALES = (3.0, 10.0, 30.0, 100.0, 300.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--offset", type=int, default=0, help="seeds start at 100 * offset")
    parser.add_argument("--large", action="store_true", help="n_x 5, n_a 8, m 4, T_x 12")
    args = parser.parse_args()
    xla.use_fast_compile()  # as the suite and jaxrnn check compile
    import jax

    from jaxrnn.cells import CELLS
    from jaxrnn.gradcheck import check_backward

    sizes = (5, 8, 4, 12) if args.large else (3, 4, 3, 5)
    seeds = range(100 * args.offset, 100 * args.offset + args.seeds)
    count = collections.Counter()
    for dtype, name, scale, seed, level in itertools.product(
        (np.float64, np.float32), CELLS, SCALES, seeds, ("cell", "sequence")
    ):
        fd = dtype == np.float64
        try:
            with jax.enable_x64(fd):
                report = check_backward(
                    *saturated_problem(CELLS[name], level, dtype, scale, seed, sizes),
                    finite_differences=fd,
                )
        except ValueError:  # every gradient exactly 0: nothing to check
            count["nothing to check"] += 1
            continue
        count["ok" if report.ok else "WRONG" if report.failed else "undecided"] += 1
        if report.failed:
            print(np.dtype(dtype).name, name, level, scale, seed, f"\n{report}\n")
    print(dict(count))


if __name__ == "__main__":
    main()
