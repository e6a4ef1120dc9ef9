"""jaxrnn check FILE: a learner's solution gets the right verdict, suspects, first wrong step
and slip. The files of tests/solutions play learners' solutions (see its README)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from jaxrnn import cli, exercises, slips, solution
from jaxrnn import numpy_reference as ref
from jaxrnn.solution import diagnose

SOLUTIONS = pathlib.Path(__file__).with_name("solutions")

#: per slip of the catalogue: the suspects and, for a loop, the step where its results first
#: depart (a backward counted from the last step, on the documents' test cell: 4 steps for the
#: RNN, da's 4 of 7 for the LSTM; a forward from the first)
EXPECTED = {
    (2, "a0-at-every-step"): (["the loop"], 1),  # step 0 starts from a0 anyway
    (2, "a-from-zeros"): (["the loop"], 0),
    (3, "concat-swapped"): (["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "prediction"], None),
    (4, "c-is-a"): (["the loop"], 0),
    (4, "a0-at-every-step"): (["the loop"], 1),
    (4, "c-from-a0"): (["the loop"], 0),
    (4, "a-from-zeros"): (["the loop"], 0),
    (5, "tanh-twice"): (["(3)"], None),
    (5, "no-tanh-derivative"): (["(3)"], None),
    (5, "waa-untransposed"): (["(8)"], None),
    (6, "carries-nothing"): (["the loop"], 2),  # the last step, 3, is right
    (6, "overwritten"): (["the loop"], None),  # dx is right at every step
    (6, "da-summed-once"): (["the loop"], 3),  # wrong from the last step on
    (6, "whole-caches"): ([], None),  # raises
    (7, "no-ot-derivative"): (["(7)"], None),
    (7, "no-cct-derivative"): (["(8)"], None),
    (7, "sigmoid-derivative-for-cct"): (["(8)"], None),
    (7, "no-it-derivative"): (["(9)"], None),
    (7, "dit-with-c-prev"): (["(9)"], None),
    (7, "no-ft-derivative"): (["(10)"], None),
    (7, "w-untransposed"): (["(19)"], None),
    (8, "carries-nothing"): (["the loop"], 2),  # right at the last step of da's, 3, only
    (8, "carries-only-c"): (["the loop"], 2),
    (8, "carries-only-a"): (["the loop"], 2),
    (8, "overwritten"): (["the loop"], None),
    (8, "whole-caches"): ([], None),
}
#: slips that need a notebook's globals, checked in globals.ipynb
IN_NOTEBOOK = {(5, "weights-from-globals"), (7, "weights-from-globals")}


def test_every_slip_of_the_catalogue_has_a_file_and_an_expectation():
    catalogue = {(slip.exercise, slip.id) for slip in slips.CATALOGUE}
    assert catalogue == set(EXPECTED) | IN_NOTEBOOK
    for number, slip in EXPECTED:
        assert (SOLUTIONS / f"slip_{number}_{slip}.py").exists()


@pytest.mark.parametrize("number, slip", list(EXPECTED), ids=[f"{n}-{s}" for n, s in EXPECTED])
def test_each_slip_is_named_with_its_suspects_and_step(number, slip):
    report = solution.check(SOLUTIONS / f"slip_{number}_{slip}.py", exercises=[number])
    (verdict,) = report.verdicts
    suspects, step = EXPECTED[number, slip]
    assert not verdict.ok and report.exit_status == 1
    assert verdict.slip is not None and verdict.slip.id == slip, str(report)
    assert verdict.suspects == suspects, str(report)
    assert verdict.first_wrong_step == step, str(report)
    text = " ".join(str(report).split())  # unwrapped
    assert f"✗ Exercise {number} — {verdict.function}" in text
    assert f"[{slip}]" in text and " ".join(f"hint: {verdict.slip.fix}".split()) in text


@pytest.mark.parametrize("name", ["correct.py", "correct.ipynb"])
def test_a_correct_solution_passes_every_exercise(name):
    report = solution.check(SOLUTIONS / name)
    assert [v.number for v in report.verdicts] == list(range(1, 9))
    assert report.ok and report.exit_status == 0, str(report)
    assert all(v.caches_from == "your" for v in report.verdicts if v.number >= 5)


def test_a_notebook_runs_as_it_would_its_ipython_lines_and_a_missing_module_left_out():
    """globals.ipynb: %matplotlib inline, !pip, a %%bash cell, a missing public_tests and the
    test cells that use it; cell functions reading a notebook's globals, a loop right over a
    wrong cell, and a loop wrong over a wrong cell."""
    report = solution.check(SOLUTIONS / "globals.ipynb")
    by_number = {v.number: v for v in report.verdicts}
    assert list(by_number) == [3, 5, 6, 7, 8]
    assert by_number[3].ok
    for number in (5, 7):  # right on the documents' test cell, whose weights the globals are
        v = by_number[number]
        assert v.slip.id == "weights-from-globals" and "right on the documents' test cell" in (
            v.notes
        ), str(report)  # fmt: skip
    six, eight = by_number[6], by_number[8]
    assert "fix exercise 5 first" in " ".join(six.notes) and six.slip is None
    assert "with jaxrnn's rnn_cell_backward in its place your loop is right" in six.notes
    assert "your loop is still wrong" in " ".join(eight.notes)
    assert eight.slip.id == "carries-only-c"
    (missing,) = [(w, r) for w, r in report.loading if r.missing_module]
    assert (
        missing[0] == "globals.ipynb, code cell 2" and missing[1].missing_module == "public_tests"
    )
    assert "no module 'public_tests' here; then NameError in code cell 4" in " ".join(
        str(report).split()
    )
    assert "a_next[4] =" in report.output and "a_next[4] =" not in str(report)


def test_a_solution_split_over_modules_that_import_each_other():
    """backward.py imports forward.py; its rnn_backward doubles dx at step 1, a slip no
    catalogue has: the step and the suspects are what there is."""
    paths = [SOLUTIONS / "project" / "forward.py", SOLUTIONS / "project" / "backward.py"]
    report = solution.check(paths)
    by_number = {v.number: v for v in report.verdicts}
    assert [n for n, v in by_number.items() if v.ok] == [1, 2, 5]
    six = by_number[6]
    assert six.wrong == ["dx"] and six.slip is None and six.first_wrong_step == 1
    assert six.caches_from == "your" and six.cell_ok is True
    assert "no slip jaxrnn knows gives these results" in " ".join(str(report).split())


def test_the_report_comes_whatever_the_code_does():
    """It prints, loops, exits, ends its process, reads a weight it never defined and returns
    no dictionary: each exercise still gets its verdict and the code's output is kept apart."""
    report = solution.check(SOLUTIONS / "misbehaving.py", timeout=1.0)
    by_number = {v.number: v for v in report.verdicts}
    assert not any(v.ok for v in report.verdicts) and report.exit_status == 1
    assert by_number[1].error.kind == "TimeoutError" and "misbehaving.py:12" in (
        by_number[1].error.where
    )  # fmt: skip
    assert by_number[2].error.kind == "SystemExit"
    assert by_number[3].error.kind == "ProcessExit"
    seven = by_number[7]
    assert seven.error.kind == "NameError" and seven.error.source.startswith('return {"dxt": Wo')
    assert seven.hint == "read it from the cache's parameters: parameters = cache[-1]; Wo = " \
                         "parameters['Wo']"  # fmt: skip
    assert by_number[5].wrong == ["the result"]
    assert "exploring 199" in report.output and "exploring" not in str(report)


def test_the_older_editions_expected_output_is_named():
    """The carries-nothing loop gives what an older edition printed as lstm_backward's
    Expected Output; the report says so, and that those numbers are wrong."""
    observed = exercises.lstm_backward_cell(
        type("api", (), {"lstm_backward": staticmethod(slips.for_exercise(8)[0].run)}),
        np.float64, forward_api=ref,
    )  # fmt: skip
    observed['gradients["dx"][1][2]'] = observed['gradients["dx"][1][2]'][:4]
    assert all(line.ok for line in exercises.compare(observed, exercises.OLDER_EDITION[8]))
    report = solution.check(SOLUTIONS / "slip_8_carries-nothing.py", exercises=[8])
    assert "an older edition of the LSTM document printed" in " ".join(report.verdicts[0].notes)


def test_in_process_a_namespace_and_a_module():
    """check(globals()) in a learner's running notebook: the same verdicts, in this process."""
    import importlib.util
    import sys

    sys.path.insert(0, str(SOLUTIONS))
    try:
        spec = importlib.util.spec_from_file_location(
            "slip_7", SOLUTIONS / "slip_7_no-ft-derivative.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SOLUTIONS))
    for target in (module, vars(module)):
        report = solution.check(target)
        (verdict,) = report.verdicts
        assert verdict.slip.id == "no-ft-derivative" and verdict.suspects == ["(10)"]
    assert "<pre>" in report._repr_html_()


def test_the_command_line_exit_status_and_json(capsys):
    assert cli.main(["check", str(SOLUTIONS / "correct.py"), "--exercise", "1", "5"]) == 0
    out = capsys.readouterr().out
    assert "✓ Exercise 1 — rnn_cell_forward" in out and "2 exercises checked: all right" in out
    assert cli.main(["check", str(SOLUTIONS / "slip_5_tanh-twice.py"), "--json"]) == 1
    (verdict,) = json.loads(capsys.readouterr().out)["exercises"]
    assert {k: verdict[k] for k in ("function", "ok", "suspects", "first_wrong_step", "slip",
                                    "error")} == {
        "function": "rnn_cell_backward", "ok": False, "suspects": ["(3)"],
        "first_wrong_step": None, "slip": "tanh-twice", "error": None,
    }  # fmt: skip
    assert verdict["wrong"] == ["dxt", "da_prev", "dWax", "dWaa", "dba"]
    assert cli.main(["check", str(SOLUTIONS / "README.md")]) == 2
    assert "a solution is a .py module or an .ipynb notebook" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["check", str(SOLUTIONS / "correct.py"), "--cell", "lstm"])
    assert "--cell is an option of jaxrnn's own report" in capsys.readouterr().err


def test_suspects_are_what_every_wrong_output_needs_and_no_right_one_does():
    """The issue's example: dWf, dbf, dxt and da_prev wrong, the rest right: eq. (10)."""
    spec = diagnose.SPECS["lstm_cell_backward"]
    wrong = ["dxt", "da_prev", "dWf", "dbf"]
    right = ["dc_prev", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]
    assert diagnose.suspects(spec, wrong, right) == ["(10)"]
    # two slips at once: no equation is common, each wrong one's own are the suspects
    assert diagnose.suspects(spec, ["dWf", "dWo"], ["dbf", "dbo"]) == ["(11)", "(14)"]


def test_a_dx_sized_from_da_on_the_four_of_seven_test_cell_is_accepted_with_a_note():
    report = solution.check(SOLUTIONS / "dx_from_da.py", exercises=[8])
    (verdict,) = report.verdicts
    assert verdict.ok, str(report)
    assert any("your dx has da's 4 steps, not x's 7" in note for note in verdict.notes)


def test_the_readmes_report_is_what_the_command_prints(capsys, monkeypatch):
    readme = (SOLUTIONS.parents[1] / "README.md").read_text()
    command = "jaxrnn check tests/solutions/slip_8_carries-nothing.py"
    after = readme.split(f"```bash\n{command}\n```\n\n```text\n", 1)[1]
    shown = after.split("\n```", 1)[0]
    monkeypatch.chdir(SOLUTIONS.parents[1])
    assert cli.main(command.split()[1:]) == 1
    assert capsys.readouterr().out.rstrip("\n") == shown
