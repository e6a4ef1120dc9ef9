"""The report page of ``jaxrnn check FILE --html``: its size, and the time it takes to write
on top of the check itself, for the page's example (a wrong ``lstm_cell_backward`` and a loop
that carries nothing) and for every exercise wrong (the largest page).

    python benchmarks/report_page.py            # 5 pages each, medians
    python benchmarks/report_page.py --runs 9

The first page of a process also imports matplotlib; it is timed apart.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time

from jaxrnn import solution

SOLUTIONS = pathlib.Path(__file__).resolve().parents[1] / "tests" / "solution" / "solutions"
FILES = {"eq. (20) and a loop": "eq20_and_loop.py", "all eight wrong": "all_wrong.py"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"{'solution':<22} {'check':>8} {'first page':>11} {'page (median)':>14} {'size':>9}")
    for label, file in FILES.items():
        start = time.perf_counter()
        report = solution.check(SOLUTIONS / file)
        checked = time.perf_counter() - start
        times = []
        for _ in range(runs + 1):
            start = time.perf_counter()
            page = report.to_html()
            times.append(time.perf_counter() - start)
        size = len(page.encode())
        median = statistics.median(times[1:])
        print(f"{label:<22} {checked:>7.1f}s {times[0]:>10.2f}s {median:>13.2f}s "
              f"{size / 1000:>7.0f} kB")  # fmt: skip


if __name__ == "__main__":
    main()
