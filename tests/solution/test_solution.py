"""jaxrnn check FILE: a learner's solution gets the right verdict, suspects, first wrong step
and slip. The files of tests/solution/solutions play learners' solutions (see its README)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from jaxrnn import cli, solution
from jaxrnn.course import exercises, slips
from jaxrnn.course import reference as ref
from jaxrnn.solution import _child
from jaxrnn.solution import _diagnose as diagnose

SOLUTIONS = pathlib.Path(__file__).with_name("solutions")

#: per slip of the catalogue: the suspects and, for a loop, the step where its results first
#: depart (a backward counted from the last step, on the documents' test cell: 4 steps for the
#: RNN, da's 4 of 7 for the LSTM; a forward from the first)
EXPECTED = {
    (2, "a0-at-every-step"): (["the loop"], 1),  # step 0 starts from a0 anyway
    (2, "a-from-zeros"): (["the loop"], 0),
    (2, "skips-step-0"): (["the loop"], 0),
    (2, "a-view"): (["the loop"], 0),  # step 0 reads the last column: zeros
    (3, "concat-swapped"): (["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "prediction"], None),
    (4, "c-is-a"): (["the loop"], 0),
    (4, "a0-at-every-step"): (["the loop"], 1),
    (4, "c-from-a0"): (["the loop"], 0),
    (4, "a-from-zeros"): (["the loop"], 0),
    (4, "skips-step-0"): (["the loop"], 0),
    (4, "c-view"): (["the loop"], None),  # a, y and c are right: only step 0's cache is not
    (4, "a-view"): (["the loop"], 0),
    (5, "tanh-twice"): (["(3)"], None),
    (5, "no-tanh-derivative"): (["(3)"], None),
    (5, "waa-untransposed"): (["(8)"], None),
    (5, "bias-mean"): (["(6)"], None),
    (6, "carries-nothing"): (["the loop"], 2),  # the last step, 3, is right
    (6, "overwritten"): (["the loop"], None),  # dx is right at every step
    (6, "da-summed-once"): (["the loop"], 3),  # wrong from the last step on
    (6, "da-never-added"): (["the loop"], 3),  # every gradient zero
    (6, "skips-step-0"): (["the loop"], 0),
    (6, "whole-caches"): ([], None),  # raises
    (7, "no-ot-derivative"): (["(7)"], None),
    (7, "no-cct-derivative"): (["(8)"], None),
    (7, "sigmoid-derivative-for-cct"): (["(8)"], None),
    (7, "no-it-derivative"): (["(9)"], None),
    (7, "dit-with-c-prev"): (["(9)"], None),
    (7, "no-ft-derivative"): (["(10)"], None),
    (7, "w-untransposed"): (["(19)"], None),
    (7, "whole-w"): (["(19)", "(21)"], None),
    (7, "bias-mean"): (["(15)", "(16)", "(17)", "(18)"], None),
    (8, "carries-nothing"): (["the loop"], 2),  # right at the last step of da's, 3, only
    (8, "carries-only-c"): (["the loop"], 2),
    (8, "carries-only-a"): (["the loop"], 2),
    (8, "overwritten"): (["the loop"], None),
    (8, "da-never-added"): (["the loop"], 3),
    (8, "skips-step-0"): (["the loop"], 0),
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
    assert "with jaxrnn's rnn_cell_backward in its place your loop is right" in " ".join(six.notes)
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
    observed = exercises.run_exercise(
        exercises.EXERCISES[7],
        type("api", (), {"lstm_backward": staticmethod(slips.for_exercise(8)[0].run)}),
        forward_api=ref,
    )
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
    readme = (SOLUTIONS.parents[2] / "README.md").read_text()
    command = "jaxrnn check tests/solution/solutions/slip_8_carries-nothing.py"
    after = readme.split(f"```bash\n{command}\n```\n\n```text\n", 1)[1]
    shown = after.split("\n```", 1)[0]
    monkeypatch.chdir(SOLUTIONS.parents[2])
    assert cli.main(command.split()[1:]) == 1
    assert capsys.readouterr().out.rstrip("\n") == shown


# ----------------------------------------------------------- real notebooks, as learners save them


def _text(report) -> str:
    return " ".join(str(report).split())  # unwrapped


def test_a_notebook_saved_half_done_gets_a_full_report(capsys):
    """partial.ipynb: two exercises done, three still the template and raising on their None,
    two returning the template's None, and lstm_backward in a cell that does not parse. Every
    one gets its block, --json prints, and the exit status says not all were checked right."""
    assert cli.main(["check", str(SOLUTIONS / "partial.ipynb"), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    by_number = {e["number"]: e for e in found["exercises"]}
    assert [n for n, e in by_number.items() if e["ok"]] == [1, 2]
    assert by_number[5]["unwritten"] == ["dxt", "da_prev", "dWax", "dWaa", "dba"]
    assert len(by_number[7]["unwritten"]) == 11 and by_number[7]["findings"] == []
    for number in (3, 4, 6):  # raised on the template's None, with the hint that says so
        assert by_number[number]["error"]["type"] == "TypeError"
        assert "placeholder of the template" in by_number[number]["fix"]
    assert [e["number"] for e in found["not_checked"]] == [8]
    assert found["not_checked"][0]["where"] == "partial.ipynb, code cell 10"
    assert found["found"] == list(range(1, 9)) and found["exit_status"] == 1
    report = solution.check(SOLUTIONS / "partial.ipynb")
    text = _text(report)
    assert "✗ Exercise 5 — rnn_cell_backward (partial.ipynb, code cell 7, line 1) not written " \
           "yet: returns None for dxt, da_prev, dWax, dWaa, dba" in text  # fmt: skip
    assert "? Exercise 8 — lstm_backward (partial.ipynb, code cell 10) not checked: its code " \
           "did not run (SyntaxError" in text  # fmt: skip
    assert text.endswith("7 exercises checked: 3 wrong (3, 4, 6), 2 not written yet (5, 7); not "
                         "checked, their code did not run: 8; your code printed 3 lines (kept "
                         "apart; --show-output shows them)")  # fmt: skip


def _returning(value):
    """A namespace whose every one of the eight functions returns ``value``."""
    return {name: (lambda *args, value=value: value) for name in diagnose.NAMES}


ODD = {
    "None": None, "a scalar": 3.0, "a list": [1.0, 2.0], "a string": "done",
    "an object array": np.array([None, 1], dtype=object), "complex": np.ones((5, 10)) * 1j,
    "a string array": np.array(["a", "b"]), "an empty dict": {}, "a generator": (i for i in ()),
}  # fmt: skip


@pytest.mark.parametrize("what", list(ODD))
def test_whatever_a_function_returns_the_report_comes(what):
    """Nothing a learner's function returns makes jaxrnn raise: every exercise gets a verdict,
    wrong, saying what it got; the text and the JSON are written."""
    report = solution.check(_returning(ODD[what]))
    assert [v.number for v in report.verdicts] == list(range(1, 9))
    assert not any(v.ok or v.unchecked for v in report.verdicts), str(report)
    assert report.exit_status == 1 and json.loads(report.to_json())["exit_status"] == 1
    assert "Traceback" not in str(report)


def test_a_dictionary_of_what_is_not_gradients_is_said_so():
    """dba as Python objects or strings, dbi right as nested lists, dbc a scalar, dbo missing
    and a key too many; a forward's a_next complex: each said for what it is, without a
    warning leaking and without finite differences blamed for a list."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = solution.check(SOLUTIONS / "odd_types.py")
    one, five, seven = report.verdicts
    assert one.wrong == ["a_next"] and one.findings["a_next"].fault.startswith("complex values")
    assert five.wrong == ["dba"] and "Python objects" in five.findings["dba"].fault
    assert seven.wrong == ["dbf", "dbc", "dbo"] and "dbi" in seven.right
    assert "strings" in seven.findings["dbf"].fault
    assert seven.findings["dbc"].fault == "shape (), expected (5, 1)"
    assert seven.findings["dbo"].fault == "not returned"
    assert any("'extra'" in note for note in seven.notes)


def test_the_commonest_slip_is_named_when_dx_is_sized_from_da():
    """The template sizes dx from da: 4 of x's 7 steps on the LSTM document's test cell."""
    report = solution.check(SOLUTIONS / "dx_from_da_carries_nothing.py", exercises=[8])
    (verdict,) = report.verdicts
    assert verdict.slip.id == "carries-nothing" and verdict.first_wrong_step == 2, str(report)
    assert "expected (3, 10, 7)" not in str(report)
    assert any("your dx has da's 4 steps, not x's 7" in note for note in verdict.notes)


def test_a_probe_names_its_slip_only_where_its_definition_holds():
    """Zeros for dxt and da_prev, and the weights' gradients in eqs. (19), (21), do not change
    with the cache's weights, but are wrong on the documents' test cell: no slip is named; the
    report says only what it shows."""
    report = solution.check(SOLUTIONS / "no_slip.py")
    assert [v.slip for v in report.verdicts] == [None, None], str(report)
    assert report.verdicts[1].suspects == ["(19)", "(21)"]
    text = _text(report)
    assert "the suspects above are what there is to go on" in text
    assert "the step above" not in text


def test_a_scalar_zero_in_a_forwards_cache_is_right_with_a_note():
    report = solution.check(SOLUTIONS / "c_scalar.py")
    assert report.ok, str(report)
    four = report.verdicts[1]
    assert any("is the scalar 0 where the documents hold an array" in n for n in four.notes)
    assert report.verdicts[3].caches_from == "your"  # the backward took those caches


def test_a_file_that_does_not_parse_is_not_checked_and_not_passed(capsys):
    report = solution.check(SOLUTIONS / "unparsable.py")
    assert report.verdicts == [] and report.unchecked == ["rnn_cell_forward", "rnn_forward"]
    assert report.exit_status == 1 and not report.ok
    assert str(report).endswith("no exercise checked; not checked, their code did not run: 1, 2")


def test_a_loop_over_a_raising_cell_says_what_jaxrnns_cell_shows_as_such():
    """rnn_cell_backward raises; rnn_backward carries nothing. The step is the loop's with
    jaxrnn's cell in its place, and said so: the learner's own function has no step."""
    report = solution.check(SOLUTIONS / "raising_cell.py")
    six = report.verdicts[1]
    assert six.error.kind == "KeyError" and six.first_wrong_step is None
    assert six.swapped_step == (2, 4) and six.slip.id == "carries-nothing", str(report)
    lines = [line.strip() for line in str(report).splitlines()]
    assert not any(line.startswith("dx is right") for line in lines)
    assert "with jaxrnn's rnn_cell_backward in its place, dx is right at step 3 and first " \
           "departs at step 2" in _text(report)  # fmt: skip


def test_a_wrong_loop_over_a_wrong_cell_keeps_its_own_step():
    report = solution.check(SOLUTIONS / "wrong_cell_wrong_loop.py")
    seven, eight = report.verdicts
    assert seven.slip.id == "no-ft-derivative" and eight.slip.id == "carries-only-c"
    assert eight.first_wrong_step == 3 and eight.swapped_step == (2, 4), str(report)
    text = _text(report)
    assert "dx is wrong from the last step, 3, on" in text
    assert "with jaxrnn's lstm_cell_backward in its place, dx is right at step 3 and first " \
           "departs at step 2" in text  # fmt: skip


@pytest.mark.parametrize("name", ["bom.py", "latin1.py", "magics.ipynb", "nbformat3.ipynb"])
def test_files_are_read_as_python_and_jupyter_read_them(name):
    """A BOM, a PEP 263 coding line, IPython's syntax (a line continuing an expression with
    ``% n_a`` is Python), nbformat 3."""
    report = solution.check(SOLUTIONS / name)
    assert report.ok and report.loading == [], str(report)


def test_ipythons_syntax_without_ipython_is_told_from_python():
    from jaxrnn.solution._child import python_of as _python_of

    cell = json.loads((SOLUTIONS / "magics.ipynb").read_text())["cells"][3]["source"]
    source = "".join(cell)
    plain = _python_of(source, ipython=False)
    assert "%" not in plain and "!" not in plain and "?" not in plain
    compile(plain, "cell", "exec")
    kept = "x = (3\n    % 2)\n"  # an operator at the start of a line is Python
    assert _python_of(kept, ipython=False) == kept == _python_of(kept)
    assert _python_of("%%bash\nls\n", ipython=False) is None


def test_solutions_of_one_name_in_two_folders_are_two_solutions(capsys):
    a, b = (str(SOLUTIONS / "twins" / f / "solution.py") for f in "ab")
    with pytest.raises(ValueError, match="would be one module"):
        solution.check([a, b])
    assert cli.main(["check", a, b]) == 1
    out = capsys.readouterr().out
    assert out.count("1 exercise checked: ") == 2
    assert f"jaxrnn check {a}" in out and f"jaxrnn check {b}" in out
    assert "1 exercise checked: all right" in out and "1 exercise checked: 1 wrong (1)" in out


def test_a_loop_reaching_its_cell_through_a_module_is_swapped_or_says_it_cannot_be():
    report = solution.check(SOLUTIONS / "through_module" / "solution.py")
    (two,) = report.verdicts
    assert two.slip.id == "a0-at-every-step" and two.swapped_step == (1, 4), str(report)
    assert any("in its place your loop is still wrong" in n for n in two.notes)
    report = solution.check(SOLUTIONS / "through_module" / "default.py")
    (two,) = report.verdicts
    assert two.swapped_step is None and not any("in its place your loop" in n for n in two.notes)
    assert any("could not be put in place of yours" in n for n in two.notes), str(report)


def test_an_exercise_asked_for_and_not_in_the_file(capsys):
    assert cli.main(["check", str(SOLUTIONS / "bom.py"), "--exercise", "8"]) == 2
    assert "exercise 8 not in the file: nothing to check" in capsys.readouterr().out
    assert cli.main(["check", str(SOLUTIONS / "bom.py"), "--exercise", "1", "8"]) == 0
    assert "1 exercise checked: all right; not in the file: 8" in capsys.readouterr().out


def test_what_the_code_raises_is_reported_even_when_it_is_no_exception():
    report = solution.check(SOLUTIONS / "interrupts.py")
    one, two = report.verdicts
    assert one.error.kind == "KeyboardInterrupt" and "interrupts.py:9" in one.error.where
    assert two.error.kind == "Stop" and two.error.message == "enough"


def test_checking_a_namespace_leaves_numpys_global_state_alone():
    import importlib.util

    spec = importlib.util.spec_from_file_location("twin_a", SOLUTIONS / "twins/a/solution.py")
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.path.insert(0, str(SOLUTIONS / "project"))  # rnn_utils comes from jaxrnn's fallback
    sys.path.append(_child.FALLBACK)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SOLUTIONS / "project"))
        sys.path.remove(_child.FALLBACK)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    diagnose.cases.cache_clear()  # the test cells' inputs drawn again, in this process
    assert solution.check(module).ok
    assert np.array_equal(np.random.get_state()[1], before)


def test_a_backward_in_float32_is_right_to_its_rounding_and_never_an_equations_fault():
    report = solution.check(SOLUTIONS / "float32.py")
    five, seven = report.verdicts
    assert five.ok and any("computed in float32: right to float32's rounding" in n
                           for n in five.notes), str(report)  # fmt: skip
    assert not seven.ok and seven.suspects == [] and seven.slip is None
    assert any("float32's rounding makes: not a wrong equation" in n for n in seven.notes)


def test_the_command_lines_timeout_and_json_output(capsys):
    with pytest.raises(SystemExit):
        cli.main(["check", str(SOLUTIONS / "bom.py"), "--timeout", "1e12"])
    assert "at most 86400" in capsys.readouterr().err
    assert cli.main(["check", str(SOLUTIONS / "misbehaving.py"), "--exercise", "5", "--json",
                     "--show-output", "--timeout", "0.5"]) == 1  # fmt: skip
    found = json.loads(capsys.readouterr().out)
    assert "exploring 199" in found["output"]
    with pytest.raises(ValueError, match="`timeout`"):
        solution.check(SOLUTIONS / "bom.py", timeout=float("inf"))
