"""``jaxrnn check`` prints the table, exits 0 as shipped and non-zero on a planted error."""

import dataclasses
import sys

import numpy as np
import pytest

from jaxrnn import cells, cli
from jaxrnn.cli import report, xla


def test_check_passes_as_shipped(capsys):
    assert cli.main(["check", "--cell", "rnn", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "vs jax.vjp" in out and "vs finite diff." in out and "all agree" in out
    levels = ["cell", "sequence", "long", "lengths", "reverse", "bidirectional", "stacked"]
    rows = [line.split() for line in out.splitlines() if line.startswith("cpu:0")]
    assert [row[2] for row in rows] == levels and all(row[-1] == "PASS" for row in rows)
    # the long-sequence row, with finite differences, so that a too coarse step cannot hide
    long_row = next(line for line in out.splitlines() if " rnn   long " in line)
    assert "float64" in long_row and "PASS" in long_row and "e-" in long_row.split()[-2]


@pytest.mark.parametrize("gradient", ["dWf", "dc_prev"])
def test_check_fails_on_a_planted_error(monkeypatch, capsys, gradient):
    real = cells.CELLS["lstm"]

    def broken(da_next, dc_next, cache):
        gradients = dict(real.cell_backward(da_next, dc_next, cache))
        gradients[gradient] = 1.01 * gradients[gradient]
        return gradients

    broken.__name__ = "lstm_cell_backward"
    monkeypatch.setitem(cells.CELLS, "lstm", dataclasses.replace(real, cell_backward=broken))
    assert cli.main(["check", "--cell", "lstm", "--dtype", "float32", "--level", "cell"]) == 1
    out = capsys.readouterr().out
    assert "DISAGREEMENT" in out
    cell_row = next(line for line in out.splitlines() if " lstm  cell " in line)
    assert f'FAIL: lstm_cell_backward: gradients["{gradient}"]' in cell_row
    assert f"{gradient} vs autodiff" in cell_row


def test_unknown_device_is_a_clear_error():
    with pytest.raises(SystemExit, match="no device 'tpu:7'"):
        report.devices("tpu:7")


def test_every_device_gets_its_rows():
    """On 2 host devices (a subprocess: the count is fixed when JAX starts), every row runs on
    each, named by its device."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu"}  # fmt: skip
    command = [sys.executable, "-m", "jaxrnn", "check", "--cell", "rnn", "--dtype", "float32",
               "--level", "cell", "stacked"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("cpu:")]
    assert sorted(row[0] for row in rows) == ["cpu:0"] * 2 + ["cpu:1"] * 2
    with pytest.raises(SystemExit, match="no device 'cpu:1'"):
        report.devices("cpu:1")  # this process has one


def test_report_rows_cover_cells_levels_and_dtypes(capsys):
    argv = ["check", "--cell", "lstm", "--dtype", "float32", "--verbose", "--level", "cell",
            "sequence", "bidirectional"]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    # the documents' cell and sequence backward leave the output layer out; a layer has none
    assert out.count("not returned by the backward, and exactly 0 by jax.vjp: dWy, dby") == 2
    assert "dforward.Wf" in out and "dbackward.Wf" in out
    assert np.dtype("float32").name in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--hidden", "0"], "--hidden: must be at least 1; got 0"),
        (["--hidden", "-3"], "--hidden: must be at least 1"),
        (["--seed", "-1"], "--seed: must be at least 0"),
        (["--steps", "0"], "--steps: must be at least 1"),
        (["--steps", "ten"], "--steps: 'ten' is not an integer"),
        (["--learning-rate", "0"], "--learning-rate: must be a finite number above 0"),
        (["--learning-rate", "nan"], "--learning-rate: must be a finite number above 0"),
        (["--optimizer", "adagrad"], "--optimizer: invalid choice: 'adagrad'"),
        (["--chunk", "0"], "--chunk: must be at least 1"),
        (["--save", "/no/such/folder/model.npz"], "the folder '/no/such/folder' does not exist"),
        (["--plot", "/no/such/folder/loss.png"], "does not exist"),
        (["--processes", "2"], "--processes, --process-id and --coordinator go together"),
        (
            ["--processes", "2", "--process-id", "2", "--coordinator", "h:1"],
            "--process-id: must be below --processes (2); got 2",
        ),
        (
            ["--processes", "2", "--process-id", "0", "--coordinator", "host"],
            "--coordinator: HOST:PORT",
        ),
        (["--distributed", "--processes", "2"], "--distributed finds the processes itself"),
    ],
)
def test_train_arguments_are_checked_before_any_work(argv, fragment, monkeypatch, capsys):
    from jaxrnn.demo import charlm

    calls = []
    monkeypatch.setattr(charlm, "train", lambda *a, **k: calls.append(1))
    with pytest.raises(SystemExit) as info:
        cli.main(["train", *argv])
    assert info.value.code == 2 and calls == []
    assert fragment in capsys.readouterr().err


def test_train_saves_under_the_name_given_and_a_short_run_succeeds(tmp_path, capsys):
    path = tmp_path / "model"  # no .npz: written as given, not as model.npz
    argv = ["train", "--cell", "rnn", "--steps", "3", "--hidden", "4", "--optimizer", "sgd",
            "--learning-rate", "0.1", "--chunk", "10", "--save", str(path)]  # fmt: skip
    assert cli.main(argv) == 0
    assert path.exists() and not (tmp_path / "model.npz").exists()
    out = capsys.readouterr().out
    assert f"saved to {path}" in out and "J per sequence of 10 characters" in out


def test_check_in_bfloat16(capsys):
    argv = ["check", "--cell", "rnn", "--dtype", "bfloat16", "--level", "cell", "stacked"]
    assert cli.main(argv) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "bfloat16" in line]
    assert len(rows) == 2 and all(row.endswith("PASS") for row in rows)
    assert "14/14" in rows[0]  # the documents' cells, to bfloat16's precision
    assert all(", in float64)" in row for row in rows)  # measured against float64's answer


@pytest.mark.parametrize(
    "cell, fragment",
    [
        ("nosuchmodule:X", "No module named 'nosuchmodule'"),
        ("lstmm", "unknown cell 'lstmm'"),
        ("user_cells:MISSING", "has no attribute 'MISSING'"),
        ("user_cells:mgu_cell_forward", "is a function, not a jaxrnn Cell"),
        (":MGU", "name it 'package.module:NAME'"),
    ],
)
def test_a_cell_that_cannot_be_had_is_one_line_before_any_row(cell, fragment, capsys):
    assert cli.main(["check", "--cell", "rnn", cell]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no header, no rows
    assert fragment in captured.err and len(captured.err.strip().splitlines()) == 1


def test_check_runs_the_initial_level_only_where_a_cell_has_a_state_after_a0(capsys):
    assert cli.main(["check", "--cell", "rnn", "gru", "--level", "initial"]) == 2
    assert "the cells chosen have none" in capsys.readouterr().err


def test_the_lru_has_every_row_but_a_stack(capsys):
    """The LRU's rows run as any cell's; a stack of it, whose states are complex, has none."""
    assert cli.main(["check", "--cell", "lru", "--level", "stacked"]) == 2
    assert "a complex state (the LRU's) has none" in capsys.readouterr().err
    argv = ["check", "--cell", "lru", "--level", "cell", "bidirectional", "--dtype", "float64"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "2 rows in" in out and "all agree" in out
    assert "--cell mingru minlstm, or --all" in out


def test_a_linear_cell_on_its_parallel_scan_has_rows_of_its_own(capsys):
    """``NAME.parallel_scan`` checks the cell on its scan, named so in its rows; a cell that
    is not linear in its state has no scan, said in one line before any row."""
    assert cli.main(["check", "--cell", "lstm.parallel_scan"]) == 2
    assert "Cell 'lstm' is not linear in its state" in capsys.readouterr().err
    argv = ["check", "--cell", "minlstm.parallel_scan", "--level", "cell", "lengths", "--dtype",
            "float64"]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "1 rows in" in out and "minlstm.parallel_scan  lengths" in out


def test_check_prints_each_row_as_it_is_measured(monkeypatch, capsys):
    """The row count comes first, and each row is on the screen before the next is measured."""
    seen = []
    real = report.run_row

    def watched(*args, **kwargs):
        seen.append(capsys.readouterr().out)
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "run_row", watched)
    argv = ["check", "--cell", "rnn", "--dtype", "float32", "float64", "--level", "cell"]
    assert cli.main([*argv, "--jobs", "1"]) == 0
    assert "jaxrnn check: 2 rows" in seen[0] and "cpu:0" not in seen[0]
    assert [line.split()[:4] for line in seen[1].splitlines() if line] == [
        ["cpu:0", "rnn", "cell", "float32"]
    ]  # the first row, printed before the second is measured
    last = [line for line in capsys.readouterr().out.splitlines() if line.startswith("cpu:0")]
    assert last[0].split()[3] == "float64" and "2 rows in" not in seen[1]


def test_rows_from_worker_processes_keep_their_order_and_verdicts(monkeypatch, capsys):
    """In two worker processes (spawned: a learner's cell is imported there by its name), the
    rows come in the plan's order, and a wrong backward still fails."""
    monkeypatch.setattr(report, "_ROWS_PER_WORKER", 1)
    argv = ["check", "--cell", "user_cells:SLIPPED_MGU", "user_cells:MGU", "--dtype", "float32",
            "--level", "cell", "sequence", "--jobs", "2"]  # fmt: skip
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert "4 rows in 2 processes" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("cpu:0")]
    assert [(row[1], row[2]) for row in rows] == [
        ("slipped_mgu", "cell"), ("slipped_mgu", "sequence"), ("mgu", "cell"), ("mgu", "sequence")
    ]  # fmt: skip
    assert [row[-1] for row in rows[2:]] == ["PASS", "PASS"]
    assert all("dbf vs autodiff" in " ".join(row) for row in rows[:2])


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    for name in ("JAXRNN_CACHE", "JAX_COMPILATION_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform not in ("darwin", "win32"):
        assert xla.cache_folder() == tmp_path / "jaxrnn" / "xla"
    monkeypatch.setenv("JAXRNN_CACHE", str(tmp_path / "mine"))
    assert xla.cache_folder() == tmp_path / "mine"
    monkeypatch.setenv("JAXRNN_CACHE", "off")
    assert xla.cache_folder() is None
    monkeypatch.delenv("JAXRNN_CACHE")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax"))
    assert xla.cache_folder() is None  # JAX reads its own variable


def test_a_second_run_reads_its_programs_from_the_cache(tmp_path):
    """The command keeps its compiled programs in the cache folder; a second run finds every
    one there and writes none (importing jaxrnn sets no cache: see test_numbers)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env["JAXRNN_CACHE"] = str(tmp_path)
    command = [sys.executable, "-m", "jaxrnn", "check", "--cell", "rnn", "--dtype", "float32",
               "--level", "cell"]  # fmt: skip
    first = subprocess.run(command, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    written = sorted(p.name for p in tmp_path.iterdir())
    assert any(name.startswith("jit_rnn_cell_forward") for name in written), written
    second = subprocess.run(command, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == written


def test_the_check_compiles_for_compile_time_and_the_caller_has_the_last_word():
    """XLA's CPU flags for compile time come before the caller's own XLA_FLAGS (XLA takes the
    last of a flag given twice); LLVM without optimizations only where no accelerator can be
    found; none at all with JAXRNN_FAST_COMPILE=off."""
    cpu = {"JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_backend_optimization_level=2"}
    flags = xla.fast_compile_flags(cpu).split()
    assert flags[: len(xla.FAST_COMPILE_FLAGS)] == list(xla.FAST_COMPILE_FLAGS)
    assert flags[-2:] == [*xla.CPU_ONLY_FLAGS, "--xla_backend_optimization_level=2"]
    gpu = xla.fast_compile_flags({"JAX_PLATFORMS": "cuda,cpu"}).split()
    assert gpu == list(xla.FAST_COMPILE_FLAGS)
    assert xla.accelerator_possible({"JAX_PLATFORMS": "tpu"})
    assert not xla.accelerator_possible({"JAX_PLATFORMS": "cpu"})
    assert xla.fast_compile_flags({**cpu, "JAXRNN_FAST_COMPILE": "off"}) is None
