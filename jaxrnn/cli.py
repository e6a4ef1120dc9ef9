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
import io
import math
import os
import pathlib
import sys
import time
from types import SimpleNamespace

import jax
import numpy as np

from jaxrnn import cells, exercises
from jaxrnn.problems import LEVELS as PROBLEM_LEVELS
from jaxrnn.problems import check_problem, compiled_cell_functions
from jaxrnn.tolerances import DOCUMENT

#: the long-sequence row's length: where a too coarse finite difference once failed a correct
#: backward, so that such a failure cannot hide again
LONG_T_X = 200
#: the report's rows per cell: the problems of jaxrnn.problems, and the long sequence after the
#: sequence
LEVELS = (*PROBLEM_LEVELS[:2], "long", *PROBLEM_LEVELS[2:])
DTYPES = ("float64", "float32", "float16", "bfloat16")


def _api():
    """The documents' function names, looked up in the cell registry at call time: the cell
    functions compiled as the cell level's problems compile them, the sequence functions as
    they are (compiled within), so that the report's rows and the documents' test cells share
    programs; their results as NumPy arrays, which the test cells index (indexing a JAX array
    is a compiled program per index)."""
    functions = {}
    for cell in cells.CELLS.values():
        for f in (*compiled_cell_functions(cell), cell.forward, cell.backward):
            functions[f.__name__] = _numpy_results(f)
    return SimpleNamespace(**functions)


def _numpy_results(f):
    def call(*args, **kwargs):
        return jax.tree.map(np.asarray, f(*args, **kwargs))

    call.__name__ = f.__name__
    return call


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


#: the documents' test cells' sizes (besides n_x = 3, n_a = 5, n_y = 2, the problems' own):
#: a documented cell's cell and sequence rows check problems of these sizes, so that the rows
#: and the test cells share their compiled programs
DOCUMENT_SIZES = {"rnn": {"m": 10, "T_x": 4}, "lstm": {"m": 10, "T_x": 7}}


def report_row(cell, level, dtype, verbose=False):
    docs_passed, docs_total, docs_failed = documents_column(cell, level, dtype)
    sizes = {"T_x": LONG_T_X} if level == "long" else None
    if level in ("cell", "sequence") and cells.CELLS.get(cell.name) is cell:
        sizes = DOCUMENT_SIZES.get(cell.name)
    fd = np.dtype(dtype) == np.float64
    problem = "sequence" if level == "long" else level
    # the float64 opinions in the float64 row: the float32 one's problem is the same, rounded
    report = check_problem(cell, problem, dtype, sizes=sizes, finite_differences=fd, adjoint=fd)
    if verbose:
        print(f"\n{cell.name} {level} {np.dtype(dtype).name}\n{report}")
    ok = report.ok and docs_passed == docs_total
    documents = f"{docs_passed}/{docs_total}" if docs_total else "-"  # the GRU has no document
    problems = docs_failed + [f"{name} vs autodiff" for name in report.failed]
    problems += [f"{name} undecided (rounding)" for name in report.undecided]
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


def run_row(device, cell, level, dtype, verbose=False) -> dict:
    """One row of the report, measured on ``device``, keyed by the report's columns."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(jax.default_device(device))
        stack.enter_context(jax.enable_x64(dtype == np.float64))
        # keep float32 matrix products out of TF32 on GPUs when comparing
        stack.enter_context(jax.default_matmul_precision("highest"))
        row = report_row(cell, level, dtype, verbose)
    return {"device": _device_name(device), **row}


def devices(spec: str):
    """``all`` (every device JAX sees, and the CPU), a platform (``gpu``), or ``cpu:0``."""
    found = list(dict.fromkeys([*jax.devices(), *jax.devices("cpu")]))
    if spec == "all":
        return found
    chosen = [d for d in found if spec in (d.platform, _device_name(d))]
    if not chosen:
        names = ", ".join(_device_name(d) for d in found)
        raise SystemExit(f"jaxrnn check: no device {spec!r}; JAX sees {names}")
    return chosen


def check_solution(args) -> int:
    """``jaxrnn check FILE...``: the learner's solution, each exercise's block as it comes;
    the files of each folder are one solution (:func:`jaxrnn.solution.solutions`), checked in
    turn. The exit status is the worst of theirs."""
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
    reports = []
    for files in solution.solutions(args.files):
        if reports and not args.json:
            _print("")
        try:
            report = solution.check(files, exercises=exercises, timeout=args.timeout,
                                    progress=show)  # fmt: skip
        except ValueError as err:  # an exercise that is none of the eight
            print(f"jaxrnn check: {err}", file=sys.stderr)
            return 2
        reports.append(report)
        if args.json:
            continue
        if report.unreadable is not None:
            _print(report.header())
        else:
            remaining = report.unchecked_lines()
            _print("\n".join([*remaining, "", report.summary()]))
        if args.show_output and report.output:
            _print("\nwhat your code printed:\n" + report.output.rstrip())
    status = max(report.exit_status for report in reports)
    if args.json:
        if len(reports) == 1:
            _print(reports[0].to_json(output=args.show_output))
        else:
            import json

            _print(json.dumps({
                "ok": all(r.ok for r in reports), "exit_status": status,
                "solutions": [r.to_dict(output=args.show_output) for r in reports],
            }, indent=2))  # fmt: skip
    return status


def _print(text: str) -> None:
    """``print``, where a terminal that cannot show a character (the report's ✓, Γ, ⟨t⟩)
    gets a replacement instead of an error."""
    encoding = sys.stdout.encoding or "utf-8"
    print(text.encode(encoding, "replace").decode(encoding, "replace"), flush=True)


#: the report's columns, and the width of the widest value each can take (the result, last,
#: takes what it needs): fixed, so that each row is printed the moment it is measured
_COLUMNS = {
    "device": 0, "cell": 0, "level": 0, "dtype": 0, "documents": len("12/12"),
    "vs jax.vjp": len("1.0e-15 (<= 1e-12, in float64)"),
    "vs jax.jvp": len("1.0e-15 (<= 1e-12)"),
    "vs finite diff.": len("1.0e-15 (<= 1e-12)"),
    "result": 0,
}  # fmt: skip


def _row_text(values, widths) -> str:
    return "  ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()


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
    plan = [
        (device, name, cell, level, dtype)
        for device in devices(args.device)
        for name, cell in zip(args.cell, chosen, strict=True)
        for level in args.level
        # a0 is given at every level: a row for a cell without other states would repeat "reverse"
        if level != "initial" or len(cell.state) > 1
        for dtype in dtypes
    ]
    if not plan:
        print("no rows: the level 'initial' checks the states after a0 (the LSTM's c0), and "
              "the cells chosen have none", file=sys.stderr)  # fmt: skip
        return 2
    names = {"device": [_device_name(d) for d, *_ in plan],
             "cell": [c.name for _, _, c, *_ in plan], "level": args.level,
             "dtype": [d.name for d in dtypes]}  # fmt: skip
    widths = [max(len(column), width, *(len(n) for n in names.get(column, ())))
              for column, width in _COLUMNS.items()]  # fmt: skip
    jobs = _jobs(args.jobs, plan)
    _print(
        f"jaxrnn check: {len(plan)} rows"
        + (f" in {jobs} processes" if jobs > 1 else "")
        + ", hand-derived backward passes against the documents'\n"
        "expected outputs, jax.vjp of the forward, forward mode (jax.jvp, the dot-product test,\n"
        "in float64) and central finite differences (float64); errors are max |manual -\n"
        "reference| / max |reference| over each gradient (for jax.jvp, over the dot products'\n"
        "terms), the worst shown; each row is printed as it is measured\n"
    )
    _print(_row_text(_COLUMNS, widths))
    ok = True
    for row, verbose in _rows(plan, jobs, args.verbose):
        if verbose:
            _print(verbose.rstrip())
        ok &= row["result"] == "PASS"
        _print(_row_text([row[column] for column in _COLUMNS], widths))
    elapsed = time.perf_counter() - start
    _print(f"\n{len(plan)} rows in {elapsed:.1f} s: " + ("all agree" if ok else "DISAGREEMENT"))
    return 0 if ok else 1


def _device_name(device) -> str:
    return f"{device.platform}:{device.id}"


def _cpu_only(plan) -> bool:
    """Whether every row of the plan runs on the CPU."""
    return all(device.platform == "cpu" for device, *_ in plan)


#: rows per worker process below which the rows run in this process: a worker's start (a
#: Python with JAX, about 3 s) would cost more than it saves
_ROWS_PER_WORKER = 6


def _jobs(asked: int | None, plan) -> int:
    """How many processes run the rows (this one and workers): ``--jobs``, else one per CPU
    core up to 4 for rows on the CPU (the report is mostly compilation, which the processes
    share out), and one for rows on an accelerator (processes would share, and contend for,
    its memory)."""
    if asked is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        asked = min(cores or 1, 4) if _cpu_only(plan) else 1
    return max(1, min(asked, len(plan) // _ROWS_PER_WORKER))


def _rows(plan, jobs: int, verbose: bool):
    """``(row, verbose text)`` for each row of the plan, in its order, each as soon as it and
    those before it are measured: here, and with ``jobs > 1`` in ``jobs - 1`` worker processes
    besides, each row going to whichever is free."""
    if jobs == 1:
        for device, _, cell, level, dtype in plan:
            yield _measured(device, cell, level, dtype, verbose)
        return
    import collections
    import concurrent.futures
    import multiprocessing

    folder = jax.config.jax_compilation_cache_dir
    # rows on the CPU alone: the workers leave any accelerator alone (and its memory unclaimed)
    cpu_only = _cpu_only(plan)
    workers = jobs - 1
    pending = collections.deque(range(len(plan)))
    running, measured, shown = {}, {}, 0
    with concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),  # forking a running JAX is unsafe
        initializer=_start_worker, initargs=(folder, cpu_only),
    ) as pool:  # fmt: skip
        try:
            while shown < len(plan):
                mine = pending.popleft() if pending else None
                # two rows queued per worker, so that none waits while this process measures
                while pending and len(running) < 2 * workers:
                    i = pending.popleft()
                    device, name, _, level, dtype = plan[i]
                    spec = (_device_name(device), name, level, dtype.name, verbose)
                    running[i] = pool.submit(_worker_row, *spec)
                if mine is not None:
                    device, _, cell, level, dtype = plan[mine]
                    measured[mine] = _measured(device, cell, level, dtype, verbose)
                elif shown not in measured:
                    measured[shown] = running.pop(shown).result()
                for i in [i for i, future in running.items() if future.done()]:
                    measured[i] = running.pop(i).result()
                while shown in measured:
                    yield measured.pop(shown)
                    shown += 1
        finally:
            for future in running.values():
                future.cancel()


def _measured(device, cell, level, dtype, verbose):
    text = io.StringIO()
    with contextlib.redirect_stdout(text) if verbose else contextlib.nullcontext():
        row = run_row(device, cell, level, dtype, verbose)
    return row, text.getvalue()


def _start_worker(folder, cpu_only: bool) -> None:
    if cpu_only:
        jax.config.update("jax_platforms", "cpu")
    if folder:
        persistent_cache(folder)


def _worker_row(device_name, cell_name, level, dtype_name, verbose):
    (device,) = devices(device_name)
    cell = cells.resolve("jaxrnn check --cell", cell_name)
    return _measured(device, cell, level, np.dtype(dtype_name), verbose)


#: where the commands keep JAX's persistent compilation cache: a folder, or "off" for none
CACHE_VARIABLE = "JAXRNN_CACHE"


def cache_folder() -> pathlib.Path | None:
    """The persistent compilation cache's folder: ``$JAXRNN_CACHE``, else ``jaxrnn/xla`` in the
    user's cache folder (``$XDG_CACHE_HOME``, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
    on Windows, ``~/.cache``); ``None`` where ``$JAXRNN_CACHE`` is ``off`` or JAX's own
    ``JAX_COMPILATION_CACHE_DIR`` is set (JAX then reads that one itself)."""
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen is not None:
        return None if chosen.lower() in ("", "off", "0", "no") else pathlib.Path(chosen)
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    if os.environ.get("XDG_CACHE_HOME"):
        base = pathlib.Path(os.environ["XDG_CACHE_HOME"])
    elif sys.platform == "darwin":
        base = pathlib.Path.home() / "Library" / "Caches"
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = pathlib.Path(os.environ["LOCALAPPDATA"])
    else:
        base = pathlib.Path.home() / ".cache"
    return base / "jaxrnn" / "xla"


def persistent_cache(folder) -> None:
    """JAX's persistent compilation cache in ``folder``, every program in it (the report's
    programs each compile in well under JAX's default threshold of a second), so that a second
    run reads its compiled programs instead of compiling them again. A global setting of JAX:
    the commands (an application) set it; importing jaxrnn never does."""
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


#: set to ``off`` to compile ``jaxrnn check``'s programs with XLA's default options
FAST_COMPILE_VARIABLE = "JAXRNN_FAST_COMPILE"

#: XLA's CPU compiler set for compile time, which is what the checks spend (small programs,
#: each run a few times): the elemental emitters instead of the fusion emitters and one code
#: generation thread per program. The same operations, rounded as IEEE arithmetic rounds them
#: (no fast math); times in benchmarks/README.md.
FAST_COMPILE_FLAGS = ("--xla_cpu_use_fusion_emitters=false",
                      "--xla_cpu_parallel_codegen_split_count=1")  # fmt: skip
#: LLVM without its optimizations: a setting of every backend's code generation, so only
#: where JAX can find no accelerator
CPU_ONLY_FLAGS = ("--xla_backend_optimization_level=0",)
#: the jaxlib releases these flags were measured with; another release's XLA is asked first
#: (in a subprocess: XLA stops the process on a flag it does not know)
VERIFIED_JAXLIB = ("0.10.",)


def fast_compile_flags(environ=os.environ) -> str | None:
    """``XLA_FLAGS`` with :data:`FAST_COMPILE_FLAGS` before the caller's own (which win where
    they set the same flag), or ``None``: where ``$JAXRNN_FAST_COMPILE`` is ``off``, or this
    jaxlib's XLA does not take them. For a process whose backends have not started: XLA reads
    its flags once."""
    if environ.get(FAST_COMPILE_VARIABLE, "").lower() in ("off", "0", "no"):
        return None
    ours = [*FAST_COMPILE_FLAGS, *(() if accelerator_possible(environ) else CPU_ONLY_FLAGS)]
    if not _xla_takes(ours):
        return None
    return " ".join([*ours, environ.get("XLA_FLAGS", "")]).strip()


def use_fast_compile() -> bool:
    """Set this process's ``XLA_FLAGS`` to :func:`fast_compile_flags`, where they apply: before
    JAX's first backend starts, which reads them once (worker processes inherit them).
    Whether they were set."""
    flags = fast_compile_flags()
    if flags is not None:
        os.environ["XLA_FLAGS"] = flags
    return flags is not None


def _xla_takes(flags) -> bool:
    import subprocess

    import jaxlib

    if jaxlib.__version__.startswith(VERIFIED_JAXLIB):
        return True
    probe = "import jax; jax.jit(lambda x: x + 1)(1.0)"
    env = {**os.environ, "XLA_FLAGS": " ".join(flags), "JAX_PLATFORMS": "cpu"}
    try:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              timeout=120)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def accelerator_possible(environ=os.environ) -> bool:
    """Whether JAX may find a device other than the CPU: a platform other than ``cpu`` asked
    for (``$JAX_PLATFORMS``), or, with none asked for, a PJRT plugin installed (CUDA, ROCm,
    TPU), which JAX would load."""
    import importlib.metadata
    import importlib.util
    import pkgutil

    asked = environ.get("JAX_PLATFORMS") or jax.config.jax_platforms
    if asked:
        return any(p.strip() not in ("", "cpu") for p in asked.split(","))
    if importlib.util.find_spec("libtpu") is not None:
        return True
    if importlib.metadata.entry_points(group="jax_plugins"):
        return True
    try:
        import jax_plugins
    except ImportError:
        return False
    return any(pkgutil.iter_modules(jax_plugins.__path__))


def run(argv=None) -> int:
    """The ``jaxrnn`` command: :func:`main`, with the persistent compilation cache of
    :func:`cache_folder`, and for ``jaxrnn check`` XLA set for compile time
    (:func:`fast_compile_flags`; ``jaxrnn train`` keeps XLA's defaults). Both are settings of
    the process, which the command (an application) makes; importing jaxrnn never does."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["check"]:
        use_fast_compile()
    folder = cache_folder()
    if folder is not None:
        persistent_cache(folder)
    return main(argv)


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
        "--timeout", type=_seconds, default=10.0,
        help="with FILE: seconds each call into your code may take (default 10, at most a day)",
    )  # fmt: skip
    check_parser.add_argument(
        "--show-output", action="store_true",
        help="with FILE: also print what your code printed (kept apart from the report; with "
        "--json, as its output field)",
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
    check_parser.add_argument(
        "--jobs", type=_at_least(1), metavar="N",
        help="processes to run the rows in (default: one per CPU core, up to 4, for rows on "
        "the CPU; one for rows on an accelerator)",
    )  # fmt: skip
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
        "--processes", type=_at_least(1), metavar="N",
        help="train in N processes, one per host or accelerator, each batch split over all "
        "their devices; every process runs the same command with its own --process-id",
    )  # fmt: skip
    train_parser.add_argument(
        "--process-id", type=_at_least(0), metavar="I", help="with --processes: 0 to N-1"
    )
    train_parser.add_argument(
        "--coordinator", metavar="HOST:PORT",
        help="with --processes: process 0's address and a free port, the same in every process",
    )  # fmt: skip
    train_parser.add_argument(
        "--distributed", action="store_true",
        help="join the processes JAX finds in the environment (SLURM, Kubernetes, Open MPI), "
        "instead of --processes, --process-id and --coordinator",
    )  # fmt: skip
    train_parser.add_argument(
        "--plot", type=_writable, help="write the loss curve to this image (needs matplotlib)"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        _check_options(check_parser, args)
        return check(args)
    _train_options(train_parser, args)
    return train(args)


#: the options of jaxrnn's own report, and of the report on a solution
_REPORT_OPTIONS = ("device", "cell", "dtype", "level", "verbose", "jobs")
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


def _train_options(parser, args) -> None:
    """The distributed options go together, and --process-id is one of the processes."""
    given = [args.processes is not None, args.process_id is not None, args.coordinator is not None]
    if args.distributed and any(given):
        parser.error("--distributed finds the processes itself: give it without --processes, "
                     "--process-id and --coordinator")  # fmt: skip
    if any(given) and not all(given):
        parser.error("--processes, --process-id and --coordinator go together: every process "
                     "runs the same command with its own --process-id")  # fmt: skip
    if all(given):
        if args.process_id >= args.processes:
            parser.error(f"--process-id: must be below --processes ({args.processes}); got "
                         f"{args.process_id}")  # fmt: skip
        host, _, port = args.coordinator.rpartition(":")
        if not host or not port.isdigit():
            parser.error(f"--coordinator: HOST:PORT, such as 10.0.0.1:1234; got "
                         f"{args.coordinator!r}")  # fmt: skip


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


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0 and at most a day."""
    from jaxrnn.solution import MAX_TIMEOUT

    value = _positive_number(text)
    if value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TIMEOUT:g} (a day); got {text}")
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


def _too_large(name: str, n_a: int, charlm) -> str | None:
    """Why a model of ``n_a`` hidden units cannot train here, or ``None``: its parameters, their
    gradients and the optimizer's two moments alone (float32) must fit in this machine's
    memory (an accelerator's, where JAX has one)."""
    vocabulary = len(set(charlm.load_corpus()))
    shapes = cells.CELLS[name].shapes(vocabulary, n_a, vocabulary)
    needed = 4 * 4 * sum(math.prod(s) for s in shapes.values())
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    available = (stats or {}).get("bytes_limit")
    if available is None and hasattr(os, "sysconf"):
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if available is None or needed <= available:
        return None
    return (f"the {name} model's parameters, their gradients and the optimizer's state alone "
            f"take {needed / 2**30:.3g} GiB, more than the {available / 2**30:.3g} GiB of "
            f"memory here")  # fmt: skip


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
        from matplotlib.figure import Figure

        formats = Figure().canvas.get_supported_filetypes()
        if args.plot.suffix.lstrip(".").lower() not in formats:
            print(f"jaxrnn train: --plot {args.plot}: matplotlib writes an image as "
                  f"{', '.join('.' + f for f in sorted(formats))}; the file's name says none of "
                  f"them", file=sys.stderr)  # fmt: skip
            return 2
    from jaxrnn import charlm, parallel

    mesh = None
    if args.distributed or args.processes is not None:
        # before any other JAX work: the run's devices are known once the processes have met
        parallel.initialize(args.coordinator, args.processes, args.process_id)
        mesh = parallel.batch_mesh()
    # after the processes have met, before any training: JAX knows its devices from here
    too_large = _too_large(args.cell, args.hidden, charlm)
    if too_large is not None:
        print(f"jaxrnn train: --hidden {args.hidden}: {too_large}", file=sys.stderr)
        return 2
    # every process trains alike; one speaks (and writes the model) for them all
    lead = jax.process_index() == 0
    say = print if lead else (lambda *a, **k: None)
    untrained = charlm.train(args.cell, steps=0, n_a=args.hidden, seed=args.seed, progress=False)
    names = lambda text, n: ", ".join([w for w in text.split("\n") if w][:n])  # noqa: E731
    say("samples before training:", names(charlm.sample(untrained, 120), 5))
    if mesh is not None:
        say(f"{jax.process_count()} processes, {mesh.shape['batch']} devices: each batch of 32 "
            f"split over them")  # fmt: skip
    T = args.chunk or 25
    try:
        model = charlm.train(
            args.cell, steps=args.steps, n_a=args.hidden, seed=args.seed,
            learning_rate=args.learning_rate, optimizer=args.optimizer, T=T,
            carry=args.chunk is not None, mesh=mesh, progress=lead,
        )  # fmt: skip
    except ValueError as err:  # a batch that the run's devices do not divide
        print(f"jaxrnn train: {err}", file=sys.stderr)
        return 2
    window = min(20, len(model.losses))
    first, last = np.mean(model.losses[:window]), np.mean(model.losses[-window:])
    say(
        f"loss (J per sequence of {T} characters), mean of {window} steps: {first:.2f} at the "
        f"start, {last:.2f} at the end"
    )
    say("samples after training: ", names(charlm.sample(model, 200), 8))
    if not lead:
        return 0
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
