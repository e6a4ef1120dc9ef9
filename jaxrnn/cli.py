"""``jaxrnn check``: the report to run first.

For now it runs the documents' eight test cells through jaxrnn, in float64 and float32, and
prints per exercise whether jaxrnn reproduces the document's expected output. The exit status
is non-zero when anything disagrees.
"""

from __future__ import annotations

import argparse
import sys

import jax
import numpy as np

from jaxrnn import exercises
from jaxrnn.tolerances import DOCUMENT


def document_rows(dtype) -> list[tuple[str, str, bool, str]]:
    """One row per exercise: (exercise, function, reproduced?, detail)."""
    tol = DOCUMENT[np.dtype(dtype)]
    rows = []
    for exercise in exercises.EXERCISES:
        with jax.enable_x64(np.dtype(dtype) == np.float64):
            observed = exercises.run_exercise(exercise, dtype=dtype)
        lines = exercises.compare(observed, exercise.expected, tol.rtol, tol.atol)
        bad = [line.label for line in lines if not line.ok]
        detail = f"{len(lines)} printed values" if not bad else "differs: " + ", ".join(bad)
        rows.append((f"{exercise.number}", exercise.function, not bad, detail))
    return rows


def check(args) -> int:
    ok = True
    print(f"jaxrnn check: the documents' expected outputs on {jax.default_backend()}")
    for dtype in (np.float64, np.float32):
        print(f"\n{np.dtype(dtype).name}")
        for number, function, passed, detail in document_rows(dtype):
            ok &= passed
            print(f"  {number}  {function:<20} {'PASS' if passed else 'FAIL'}  {detail}")
    print("\nall agree" if ok else "\nDISAGREEMENT: see the rows marked FAIL")
    return 0 if ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jaxrnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="reproduce the documents' expected outputs")
    args = parser.parse_args(argv)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
