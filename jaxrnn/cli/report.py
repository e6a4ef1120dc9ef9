"""``jaxrnn check``, the report to run first.

For each architecture, at cell level, at sequence level, over a long sequence (T_x = 200), with
variable lengths, reversed, as a bidirectional layer and in a stack of layers under a loss (see
:mod:`jaxrnn.problems`), on every device JAX sees, in float64 and float32 (``--dtype`` adds
float16 and bfloat16), one row saying whether jaxrnn's hand-derived backward pass

* reproduces the documents' printed expected outputs (forward and backward test cells),
* agrees with ``jax.vjp`` of jaxrnn's forward (largest relative error over the gradients),
* agrees with forward mode: ``<u, J v>`` by ``jax.jvp`` against ``<J^T u, v>`` from the backward,
  in float64 (the dot-product test, which uses no reverse mode at all),
* agrees with central finite differences in float64,

within the tolerances of :mod:`jaxrnn.gradcheck.tolerances`. The exit status is non-zero when
anything disagrees. ``--verbose`` prints the gradient checker's table behind every row.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from types import SimpleNamespace

import jax
import numpy as np

from jaxrnn import cells
from jaxrnn.cli.xla import persistent_cache
from jaxrnn.course import exercises
from jaxrnn.gradcheck.tolerances import DOCUMENT
from jaxrnn.problems import LEVELS as PROBLEM_LEVELS
from jaxrnn.problems import check_problem, compiled_cell_functions

#: the long-sequence row's length, by cell: 200, where a too coarse finite difference once
#: failed a correct backward, so that such a failure cannot hide again; 10,000 for the
#: recurrences linear in the state, which are made for long sequences
LONG_T_X = {"default": 200, "mingru": 10_000, "minlstm": 10_000, "lru": 10_000}
#: the report's rows per cell: the problems of jaxrnn.problems, and the long sequence after the
#: sequence
LEVELS = (*PROBLEM_LEVELS[:2], "long", *PROBLEM_LEVELS[2:])
#: the dtypes of the report, each a column group of its rows
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
    """One row of the self-report: the documents' test cells (where the level has them) and
    the gradient check of ``cell``'s hand-derived backward at ``level`` in ``dtype``."""
    docs_passed, docs_total, docs_failed = documents_column(cell, level, dtype)
    sizes = {"T_x": LONG_T_X.get(cell.name, LONG_T_X["default"])} if level == "long" else None
    if level in ("cell", "sequence") and cells.CELLS.get(cell.name) is cell:
        sizes = DOCUMENT_SIZES.get(cell.name)
    fd = np.dtype(dtype) == np.float64
    problem = "sequence" if level == "long" else level
    # the float64 opinions in the float64 row: the float32 one's problem is the same, rounded
    report = check_problem(cell, problem, dtype, sizes=sizes, finite_differences=fd, adjoint=fd)
    if verbose:
        print(f"\n{cells.label(cell)} {level} {np.dtype(dtype).name}\n{report}")
    ok = report.ok and docs_passed == docs_total
    documents = f"{docs_passed}/{docs_total}" if docs_total else "-"  # the GRU has no document
    problems = docs_failed + [f"{name} vs autodiff" for name in report.failed]
    problems += [f"{name} undecided (rounding)" for name in report.undecided]
    worst = max(report.rows, key=lambda r: r.rel_error / r.tolerance)
    adjoint = _worst(report, "adjoint")
    fd_worst = _worst(report, "fd")
    fd_column = "-"
    if fd_worst is not None:
        fd_column = f"{fd_worst.error:.1e} (<= {fd_worst.tolerance:.0e})"
    if report.unsettled:
        fd_column += f", unsettled: {', '.join(report.unsettled)}"
    return {
        "cell": cells.label(cell), "level": level, "dtype": np.dtype(dtype).name,
        "documents": documents,
        # a row measured against jax.vjp in float64 (rounding as large as the gradient) says so
        "vs jax.vjp": f"{worst.rel_error:.1e} (<= {worst.tolerance:.0e}"
        + (", in float64)" if worst.against_float64 else ")"),
        # the dot-product test with forward mode: the backward's mathematics, in float64
        "vs jax.jvp": "-" if adjoint is None else
        f"{adjoint.error:.1e} (<= {adjoint.tolerance:.0e})",
        "vs finite diff.": fd_column if fd else "-",
        "result": "PASS" if ok else "FAIL: " + "; ".join(problems),
        # every opinion's error over its tolerance, for the page's picture (not printed)
        "ratios": [(f"{row.name} {key}", o.error / o.tolerance) for row in report.rows
                   for key, o in row.opinions.items()
                   if o.settled and o.error is not None and o.tolerance],
    }  # fmt: skip


def _worst(report, key: str):
    """The opinion ``key`` of the report's gradients nearest, or furthest past, its
    tolerance, among those formed; ``None`` where none was."""
    formed = [r[key] for r in report.rows if r[key] is not None and r[key].settled
              and r[key].error is not None]  # fmt: skip
    return max(formed, key=lambda o: o.error / o.tolerance, default=None)


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


def say(text: str) -> None:
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
    """``jaxrnn check`` without a file: every row the arguments ask for, each printed as it is
    done; the exit status is 0 when every row agrees."""
    start = time.perf_counter()
    dtypes = [np.dtype(d) for d in args.dtype]
    # every --cell resolved before any row runs: a typo costs one line, not the other rows
    if getattr(args, "all", False):
        # today's recurrences step by step and on their parallel scan
        scanned = [name + cells.SCAN for name in cells.RECURRENCES]
        args.cell = list(dict.fromkeys([*args.cell, *cells.RECURRENCES, *scanned]))
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
        # a complex state (the LRU's) is not fed on as a stack's next inputs, which are real
        if level != "stacked" or not cell.complex_state
        # on its parallel scan a cell has the same cell functions: its cell row is the cell's
        if level != "cell" or not cell.parallel
        for dtype in dtypes
    ]
    if not plan:
        print("no rows: the level 'initial' checks the states after a0 (the LSTM's c0), and "
              "the cells chosen have none; the level 'stacked' feeds a layer's states on as "
              "real inputs, and a complex state (the LRU's) has none", file=sys.stderr)  # fmt: skip
        return 2
    names = {"device": [_device_name(d) for d, *_ in plan],
             "cell": [cells.label(c) for _, _, c, *_ in plan], "level": args.level,
             "dtype": [d.name for d in dtypes]}  # fmt: skip
    widths = [max(len(column), width, *(len(n) for n in names.get(column, ())))
              for column, width in _COLUMNS.items()]  # fmt: skip
    jobs = _jobs(args.jobs, plan)
    if getattr(args, "json", False):
        return _as_json(plan, jobs, args.verbose, start, getattr(args, "html", None))
    say(
        f"jaxrnn check: {len(plan)} rows"
        + (f" in {jobs} processes" if jobs > 1 else "")
        + ", hand-derived backward passes against the documents'\n"
        "expected outputs, jax.vjp of the forward, forward mode (jax.jvp, the dot-product test,\n"
        "in float64) and central finite differences (float64); errors are max |manual -\n"
        "reference| / max |reference| over each gradient (for jax.jvp, over the dot products'\n"
        "terms), the worst shown; each row is printed as it is measured\n"
    )
    say(_row_text(_COLUMNS, widths))
    ok, rows = True, []
    for row, verbose in _rows(plan, jobs, args.verbose):
        if verbose:
            say(verbose.rstrip())
        ok &= row["result"] == "PASS"
        rows.append(row)
        say(_row_text([row[column] for column in _COLUMNS], widths))
    elapsed = time.perf_counter() - start
    verdict = f"{len(plan)} rows in {elapsed:.1f} s: " + ("all agree" if ok else "DISAGREEMENT")
    say(f"\n{verdict}")
    rest = [name for name in cells.RECURRENCES if name not in args.cell]
    if rest:
        say(f"today's recurrences, linear in the state, have rows too: jaxrnn check --cell "
            f"{' '.join(rest)}, or --all for every cell")  # fmt: skip
    if getattr(args, "html", None) is not None:
        args.html.write_text(page(rows, verdict), encoding="utf-8")
        print(f"jaxrnn check: wrote {args.html}", file=sys.stderr)
    return 0 if ok else 1


def page(rows: list, verdict: str) -> str:
    """The self-report as a page: its rows as a table, each verdict marked, and every
    opinion's error against its tolerance drawn, row by row."""
    from jaxrnn import _html
    from jaxrnn._html import pictures

    columns = [c for c in _COLUMNS if c != "result"]
    body = [f"<h1>jaxrnn check: {_html.escape(verdict)}</h1>",
            "<p>Each row checks jaxrnn's hand-derived backward passes against the documents' "
            "expected outputs, jax.vjp of the forward, forward mode (the dot-product test, in "
            "float64) and central finite differences (float64), within the tolerances of "
            "jaxrnn.gradcheck.tolerances; the worst error of each is shown.</p>"]  # fmt: skip
    table = []
    for row in rows:
        passed = row["result"] == "PASS"
        result = _html.mark("right" if passed else "wrong")
        if not passed:
            result += " " + _html.escape(row["result"].removeprefix("FAIL: "))
        table.append([_html.escape(row[c]) for c in columns] + [result])
    body.append(_html.table([*map(_html.escape, columns), "result"], table))
    labels = [f"{r['cell']} {r['level']} {r['dtype']} {r['device']}" for r in rows]
    drawn = pictures.ratios([(label, [(w, v) for w, v in r.get("ratios", ())])
                             for label, r in zip(labels, rows, strict=True)])  # fmt: skip
    body.append(_html.figure(drawn, "every gradient's error over its tolerance, by opinion, "
                                    "row by row: a point right of 1 is wrong"))  # fmt: skip
    if drawn is None:
        body.append(f'<p class="note">{_html.escape(pictures.MISSING)}</p>')
    return _html.document(f"jaxrnn check: {verdict}", "\n".join(body))


def _as_json(plan, jobs: int, verbose: bool, start: float, html=None) -> int:
    """The report as one JSON document on the standard output (its rows, the columns' keys,
    and the verdict), each row's progress on the standard error as it is measured."""
    rows, measured = [], []
    for row, table in _rows(plan, jobs, verbose):
        measured.append(row)
        row = {k: v for k, v in row.items() if k != "ratios"}
        rows.append({**row, "ok": row["result"] == "PASS"} | ({"table": table} if verbose else {}))
        print(f"jaxrnn check: row {len(rows)} of {len(plan)}: {row['cell']} {row['level']} "
              f"{row['dtype']} {row['result']}", file=sys.stderr, flush=True)  # fmt: skip
    ok = all(r["ok"] for r in rows)
    seconds = round(time.perf_counter() - start, 1)
    say(json.dumps({"ok": ok, "rows": rows, "seconds": seconds}, indent=2))
    if html is not None:
        verdict = f"{len(plan)} rows in {seconds} s: " + ("all agree" if ok else "DISAGREEMENT")
        html.write_text(page(measured, verdict), encoding="utf-8")
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


__all__ = [
    "DOCUMENT_SIZES", "DTYPES", "LEVELS", "LONG_T_X", "check", "devices", "documents_column",
    "page", "report_row", "run_row", "say"
]  # fmt: skip
