"""``jaxrnn check``: the report to run first; ``jaxrnn check FILE``: the report on your own
solution of the exercises (:mod:`jaxrnn.solution`); ``jaxrnn train``: a character model.

For each architecture, at cell level, at sequence level, over a long sequence (T_x = 200), with
variable lengths, reversed, as a bidirectional layer and in a stack of layers under a loss (see
:mod:`jaxrnn.problems`), on every device JAX sees, in float64 and float32 (``--dtype`` adds
float16 and bfloat16), one row saying whether jaxrnn's hand-derived backward pass

* reproduces the documents' printed expected outputs (forward and backward test cells),
* agrees with ``jax.vjp`` of jaxrnn's forward (largest relative error over the gradients),
* agrees with forward mode: ``<u, J v>`` by ``jax.jvp`` against ``<J^T u, v>`` from the backward,
  in float64 (the dot-product test, which uses no reverse mode at all),
* agrees with central finite differences in float64,

within the tolerances of :mod:`jaxrnn.tolerances`. The exit status is non-zero when anything
disagrees. ``--verbose`` prints the gradient checker's table behind every row.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import sys
import time
from types import SimpleNamespace

import jax
import numpy as np

from jaxrnn import cells, exercises
from jaxrnn.gradcheck import format_table
from jaxrnn.problems import LEVELS as PROBLEM_LEVELS
from jaxrnn.problems import check_problem
from jaxrnn.tolerances import DOCUMENT

#: the long-sequence row's length: where a too coarse finite difference once failed a correct
#: backward, so that such a failure cannot hide again
LONG_T_X = 200
#: the report's rows per cell: the problems of jaxrnn.problems, and the long sequence after the
#: sequence
LEVELS = (*PROBLEM_LEVELS[:2], "long", *PROBLEM_LEVELS[2:])
DTYPES = ("float64", "float32", "float16", "bfloat16")


def _api():
    """The documents' function names, looked up in the cell registry at call time, jitted:
    one compilation per function instead of one per operation of an op-by-op call."""
    functions = {}
    for cell in cells.CELLS.values():
        for f in (cell.cell_forward, cell.cell_backward, cell.forward, cell.backward):
            functions[f.__name__] = jax.jit(f)
    return SimpleNamespace(**functions)


def documents_column(cell, level, dtype):
    """``(passed, total, failed labels)`` over the row's forward and backward exercises: the
    documents' cells at cell and sequence level (none for the other rows, the GRU and cells of
    your own)."""
    api = _api()
    passed = total = 0
    failed = []
    tol = DOCUMENT[np.dtype(dtype)]
    documented = cells.CELLS.get(cell.name) is cell and level in ("cell", "sequence")
    for exercise in exercises.EXERCISES if documented else ():
        function = exercise.function
        if not function.startswith(cell.name + "_") or ("_cell_" in function) != (level == "cell"):
            continue
        observed = exercises.run_exercise(exercise, api=api, dtype=dtype, forward_api=api)
        lines = exercises.compare(observed, exercise.expected, tol.rtol, tol.atol)
        total += len(lines)
        passed += sum(line.ok for line in lines)
        failed += [f"{function}: {line.label}" for line in lines if not line.ok]
    return passed, total, failed


def report_row(cell, level, dtype, verbose=False):
    docs_passed, docs_total, docs_failed = documents_column(cell, level, dtype)
    sizes = {"T_x": LONG_T_X} if level == "long" else None
    fd = np.dtype(dtype) == np.float64
    problem = "sequence" if level == "long" else level
    # the float64 opinions in the float64 row: the float32 one's problem is the same, rounded
    report = check_problem(cell, problem, dtype, sizes=sizes, finite_differences=fd, adjoint=fd)
    if verbose:
        print(f"\n{cell.name} {level} {np.dtype(dtype).name}\n{report}")
    ok = report.ok and docs_passed == docs_total
    documents = f"{docs_passed}/{docs_total}" if docs_total else "-"  # the GRU has no document
    problems = docs_failed + [f"{name} vs autodiff" for name in report.failed]
    worst = max(report.rows, key=lambda r: r.rel_error / r.tolerance)
    formed = [r for r in report.rows if r.adjoint is not None and r.adjoint.settled]
    adjoint = max(formed, key=lambda r: r.adjoint.error / r.adjoint.tolerance, default=None)
    settled = [r for r in report.rows if r.fd_settled]
    fd_worst = max(settled, key=lambda r: r.fd_rel_error / r.fd_tolerance, default=None)
    fd_column = "-"
    if fd_worst is not None:
        fd_column = f"{fd_worst.fd_rel_error:.1e} (<= {fd_worst.fd_tolerance:.0e})"
    if report.unsettled:
        fd_column += f", unsettled: {', '.join(report.unsettled)}"
    return {
        "cell": cell.name, "level": level, "dtype": np.dtype(dtype).name,
        "documents": documents,
        # a row measured against jax.vjp in float64 (rounding as large as the gradient) says so
        "vs jax.vjp": f"{worst.rel_error:.1e} (<= {worst.tolerance:.0e}"
        + (", in float64)" if worst.against_float64 else ")"),
        # the dot-product test with forward mode: the backward's mathematics, in float64
        "vs jax.jvp": "-" if adjoint is None else
        f"{adjoint.adjoint.error:.1e} (<= {adjoint.adjoint.tolerance:.0e})",
        "vs finite diff.": fd_column if fd else "-",
        "result": "PASS" if ok else "FAIL: " + "; ".join(problems),
    }  # fmt: skip


def devices(spec: str):
    """``all`` (every device JAX sees, and the CPU), a platform (``gpu``), or ``cpu:0``."""
    found = list(dict.fromkeys([*jax.devices(), *jax.devices("cpu")]))
    if spec == "all":
        return found
    chosen = [d for d in found if spec in (d.platform, f"{d.platform}:{d.id}")]
    if not chosen:
        names = ", ".join(f"{d.platform}:{d.id}" for d in found)
        raise SystemExit(f"jaxrnn check: no device {spec!r}; JAX sees {names}")
    return chosen


def check_solution(args) -> int:
    """``jaxrnn check FILE...``: the learner's solution, each exercise's block as it comes."""
    from jaxrnn import solution
    from jaxrnn.solution.report import verdict_lines

    def show(found):
        if args.json:
            return
        text = found.header() if isinstance(found, solution.Report) else "\n".join(
            verdict_lines(found)
        )  # fmt: skip
        _print(text)

    exercises = None if args.exercise is None else [
        int(e) if e.isdigit() else e for e in args.exercise
    ]  # fmt: skip
    try:
        report = solution.check(args.files, exercises=exercises, timeout=args.timeout,
                                progress=show)  # fmt: skip
    except ValueError as err:  # an exercise that is none of the eight
        print(f"jaxrnn check: {err}", file=sys.stderr)
        return 2
    if args.json:
        _print(report.to_json())
    elif report.unreadable is not None:
        _print(report.header())
    else:
        _print("\n" + report.summary())
    if args.show_output and report.output:
        _print("\nwhat your code printed:\n" + report.output.rstrip())
    return report.exit_status


def _print(text: str) -> None:
    """``print``, where a terminal that cannot show a character (the report's ✓, Γ, ⟨t⟩)
    gets a replacement instead of an error."""
    encoding = sys.stdout.encoding or "utf-8"
    print(text.encode(encoding, "replace").decode(encoding, "replace"), flush=True)


def check(args) -> int:
    if args.files:
        return check_solution(args)
    start = time.perf_counter()
    dtypes = [np.dtype(d) for d in args.dtype]
    # every --cell resolved before any row runs: a typo costs one line, not the other rows
    try:
        chosen = [cells.resolve("jaxrnn check --cell", name) for name in args.cell]
    except (ValueError, TypeError) as err:
        print(err, file=sys.stderr)
        return 2
    rows = []
    print(
        "jaxrnn check: hand-derived backward passes against the documents' expected outputs,\n"
        "jax.vjp of the forward, forward mode (jax.jvp, the dot-product test, in float64) and\n"
        "central finite differences (float64); errors are max |manual - reference| /\n"
        "max |reference| over each gradient (for jax.jvp, over the dot products' terms), the\n"
        "worst shown"
    )
    for device in devices(args.device):
        for cell in chosen:
            for level in args.level:
                if level == "initial" and len(cell.state) == 1:
                    continue  # a0 is given at every level: this row would repeat "reverse"
                for dtype in dtypes:
                    with contextlib.ExitStack() as stack:
                        stack.enter_context(jax.default_device(device))
                        stack.enter_context(jax.enable_x64(dtype == np.float64))
                        # keep float32 matrix products out of TF32 on GPUs when comparing
                        stack.enter_context(jax.default_matmul_precision("highest"))
                        row = report_row(cell, level, dtype, args.verbose)
                    rows.append({"device": f"{device.platform}:{device.id}", **row})
    if not rows:
        print("\nno rows: the level 'initial' checks the states after a0 (the LSTM's c0), and "
              "the cells chosen have none", file=sys.stderr)  # fmt: skip
        return 2
    print()
    print(format_table([list(rows[0]), *([str(v) for v in r.values()] for r in rows)]))
    ok = all(row["result"] == "PASS" for row in rows)
    elapsed = time.perf_counter() - start
    print(f"\n{len(rows)} rows in {elapsed:.1f} s: " + ("all agree" if ok else "DISAGREEMENT"))
    return 0 if ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jaxrnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser(
        "check",
        help="check the hand-derived backward passes, or your own solution of the exercises",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check_parser.add_argument(
        "files", nargs="*", metavar="FILE",
        help="your solution, a .py or an .ipynb (several when its functions are spread over "
        "modules): its code is run, in a process of its own, as you wrote it (that is what "
        "you ask for), each of the documents' eight functions found in it is checked, and "
        "every wrong one diagnosed. Without FILE: jaxrnn's own report",
    )  # fmt: skip
    check_parser.add_argument(
        "--json", action="store_true", help="with FILE: print the report as JSON"
    )
    check_parser.add_argument(
        "--exercise", nargs="+", metavar="N",
        help="with FILE: only these exercises (1-8, or the functions' names)",
    )  # fmt: skip
    check_parser.add_argument(
        "--timeout", type=_positive_number, default=10.0,
        help="with FILE: seconds each call into your code may take (default 10)",
    )  # fmt: skip
    check_parser.add_argument(
        "--show-output", action="store_true",
        help="with FILE: also print what your code printed (kept apart from the report)",
    )  # fmt: skip
    check_parser.add_argument("--device", default="all", help="all (default), cpu, gpu, cpu:0...")
    check_parser.add_argument(
        "--cell", nargs="+", default=list(cells.CELLS),
        help=f"{', '.join(cells.CELLS)} (default: all), or package.module:NAME for a cell of "
        "your own",
    )  # fmt: skip
    check_parser.add_argument(
        "--dtype", nargs="+", default=["float64", "float32"], choices=list(DTYPES),
        help="float64 and float32 by default; float16 and bfloat16 on request",
    )  # fmt: skip
    check_parser.add_argument(
        "--level", nargs="+", default=list(LEVELS), choices=list(LEVELS), help="default: all"
    )
    check_parser.add_argument("--verbose", action="store_true", help="print every gradient")
    train_parser = commands.add_parser(
        "train",
        help="train a character-level model with the hand-derived gradients",
        description="Train a character-level language model on the shipped corpus (dinosaur "
        "names); jax.grad runs jaxrnn's manual backward through the custom VJP.",
    )
    train_parser.add_argument("--cell", default="gru", choices=list(cells.CELLS))
    train_parser.add_argument("--steps", type=_at_least(1), default=2000)
    train_parser.add_argument("--hidden", type=_at_least(1), default=64, help="n_a")
    train_parser.add_argument("--seed", type=_at_least(0), default=0)
    train_parser.add_argument(
        "--optimizer", default="adam", choices=["adam", "adamw", "rmsprop", "sgd"],
        help="an Optax optimizer, after clipping the gradients' global norm to 5 (default adam)",
    )  # fmt: skip
    train_parser.add_argument(
        "--learning-rate", type=_positive_number, default=1e-2, help="default 0.01"
    )
    train_parser.add_argument(
        "--chunk", type=_at_least(1), metavar="T",
        help="read the names in chunks of T characters, each starting from the state the last "
        "one ended with (truncated backpropagation through time); by default random windows "
        "of 25, each from zero states",
    )  # fmt: skip
    train_parser.add_argument(
        "--save", type=_writable, help="write the trained model to this file (.npz format)"
    )
    train_parser.add_argument(
        "--plot", type=_writable, help="write the loss curve to this image (needs matplotlib)"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        _check_options(check_parser, args)
        return check(args)
    return train(args)


#: the options of jaxrnn's own report, and of the report on a solution
_REPORT_OPTIONS = ("device", "cell", "dtype", "level", "verbose")
_SOLUTION_OPTIONS = ("json", "exercise", "show_output")


def _check_options(parser, args) -> None:
    """Options that belong to the other report are an error, not ignored."""
    defaults = {action.dest: action.default for action in parser._actions}
    wrong = [o for o in (_REPORT_OPTIONS if args.files else _SOLUTION_OPTIONS)
             if getattr(args, o) != defaults[o]]  # fmt: skip
    if args.files and wrong:
        parser.error(f"--{wrong[0].replace('_', '-')} is an option of jaxrnn's own report, "
                     f"not of a check of FILE")  # fmt: skip
    if wrong:
        parser.error(f"--{wrong[0].replace('_', '-')} needs a FILE to check")


def _at_least(minimum: int):
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _positive_number(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0; got {text}")
    return value


def _writable(text: str) -> pathlib.Path:
    """An argparse type: a file path whose folder exists and can be written to."""
    path = pathlib.Path(text)
    folder = path.parent if str(path.parent) else pathlib.Path(".")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be written")
    return path


def train(args) -> int:
    """``jaxrnn train``; every argument was checked by the parser, before any work."""
    if args.plot:
        try:
            import matplotlib
        except ImportError:
            print(
                "jaxrnn train: --plot needs matplotlib: pip install 'jaxrnn[demo]'", file=sys.stderr
            )
            return 2
        matplotlib.use("Agg")
    from jaxrnn import charlm

    untrained = charlm.train(args.cell, steps=0, n_a=args.hidden, seed=args.seed, progress=False)
    names = lambda text, n: ", ".join([w for w in text.split("\n") if w][:n])  # noqa: E731
    print("samples before training:", names(charlm.sample(untrained, 120), 5))
    T = args.chunk or 25
    model = charlm.train(
        args.cell, steps=args.steps, n_a=args.hidden, seed=args.seed,
        learning_rate=args.learning_rate, optimizer=args.optimizer, T=T,
        carry=args.chunk is not None,
    )  # fmt: skip
    window = min(20, len(model.losses))
    first, last = np.mean(model.losses[:window]), np.mean(model.losses[-window:])
    print(
        f"loss (J per sequence of {T} characters), mean of {window} steps: {first:.2f} at the "
        f"start, {last:.2f} at the end"
    )
    print("samples after training: ", names(charlm.sample(model, 200), 8))
    if args.save:
        charlm.save(model, args.save)
        print(f"saved to {args.save}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(model.losses, lw=0.6)
        ax.set(xlabel="step", ylabel="cross-entropy J", title=f"{args.cell} on dinosaur names")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"loss curve written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
