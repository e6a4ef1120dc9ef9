"""The documents' eight test cells reproduce their printed Expected Output."""

import numpy as np
import pytest

from jaxrnn.course import exercises
from jaxrnn.gradcheck.tolerances import DOCUMENT


@pytest.mark.parametrize("exercise", exercises.EXERCISES, ids=lambda e: e.function)
def test_expected_output(exercise, dtype):
    observed = exercises.run_exercise(exercise, dtype=dtype)
    tol = DOCUMENT[dtype]
    lines = exercises.compare(observed, exercise.expected, tol.rtol, tol.atol)
    assert len(lines) == len(exercise.expected)
    failed = [f"{ln.label}: expected {ln.expected}, got {ln.observed}" for ln in lines if not ln.ok]
    assert not failed, "\n".join(failed)
    # the cells print values; the arrays themselves keep the dtype they were given
    numbers = [v for k, v in observed.items() if not isinstance(v, (tuple, int))]
    assert all(np.asarray(v).dtype == dtype for v in numbers)


def test_compare_catches_a_wrong_digit():
    exercise = exercises.EXERCISES[0]
    observed = exercises.run_exercise(exercise, dtype=np.float32)
    observed["a_next[4]"] = np.asarray(observed["a_next[4]"]) + 1e-4
    tol = DOCUMENT[np.dtype("float32")]
    lines = exercises.compare(observed, exercise.expected, tol.rtol, tol.atol)
    assert [ln.label for ln in lines if not ln.ok] == ["a_next[4]"]


def test_lstm_backward_four_of_seven_steps_leaves_later_dx_zero(dtype):
    observed = exercises.run_exercise(exercises.EXERCISES[7], dtype=dtype)
    assert observed['gradients["dx"].shape'] == (3, 10, 7)
    np.testing.assert_array_equal(np.asarray(observed['gradients["dx"][1][2]'])[4:], 0.0)
