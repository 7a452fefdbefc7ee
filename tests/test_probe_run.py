"""One probe call as the exercise generator and the grader's child both make it
(``scratchflow_course.probe_run.run_probe``): numeric outputs under their key, anything else one
error text; NumPy's error settings the same for every call; the error text shows only the frames
of the student's files."""
import importlib.util
import warnings

import numpy as np
import pytest

from scratchflow_course.probe_run import run_probe


def test_numeric_outputs_come_back_under_the_key():
    result = run_probe("7/adam/steps", lambda: {"theta": [1.5, 2.0], "count": np.int64(3),
                                                "finite": np.array([True])})
    assert sorted(result) == ["7/adam/steps/count", "7/adam/steps/finite", "7/adam/steps/theta"]
    np.testing.assert_array_equal(result["7/adam/steps/theta"], [1.5, 2.0])


@pytest.mark.parametrize("value, dtype", [("text", "<U4"), ({"a": 1}, "object"),
                                          (1j, "complex128")])
def test_an_output_that_is_not_numeric_is_an_error_and_nothing_else(value, dtype):
    result = run_probe("k", lambda: {"fine": np.zeros(2), "bad": value})
    assert list(result) == ["k/__error__"]
    assert str(result["k/__error__"]) == f"TypeError: output 'bad' is not a numeric array (dtype {dtype})"


@pytest.mark.parametrize("error, text", [
    (SystemExit(3), "the code called sys.exit(3)"),
    (KeyboardInterrupt(), "KeyboardInterrupt"),
    (NotImplementedError("task adam: write it"), "NotImplementedError: task adam: write it"),
])
def test_whatever_the_call_raises_is_one_error_text(error, text):
    def call():
        raise error
    assert run_probe("k", call) == {"k/__error__": np.array(text)}


def test_numpy_errors_are_outputs_and_one_call_cannot_change_the_next_ones_settings():
    def sets_raise():
        np.seterr(all="raise")
        return {"x": np.zeros(1)}

    def overflows():
        return {"x": np.exp(np.array([1000.0])) * 0.0}                # inf * 0 = NaN
    with np.errstate(all="warn"), warnings.catch_warnings():           # both restored afterwards
        warnings.simplefilter("error")                                 # a warning would raise here
        assert list(run_probe("a", sets_raise)) == ["a/x"]
        result = run_probe("b", overflows)
        assert np.geterr()["over"] != "raise"
    assert list(result) == ["b/x"] and np.isnan(result["b/x"]).all()


def test_the_error_text_shows_the_student_files_frames_only(tmp_path):
    (tmp_path / "scratchflow").mkdir()
    student_path = tmp_path / "scratchflow" / "student.py"
    student_path.write_text("def forward(x):\n    raise ValueError('bad x')\n")
    spec = importlib.util.spec_from_file_location("student_module_for_probe_run", student_path)
    student = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(student)

    def grader_runner():                                               # the grader's frame: private
        return student.forward(np.zeros(2))
    text = str(run_probe("k", grader_runner, ["scratchflow/student.py"])["k/__error__"])
    assert text.splitlines()[0].strip() == 'File "scratchflow/student.py", line 2, in forward'
    assert text.endswith("ValueError: bad x")
    assert "grader_runner" not in text and str(tmp_path) not in text and __file__ not in text
    assert str(run_probe("k", grader_runner)["k/__error__"]) == "ValueError: bad x"
