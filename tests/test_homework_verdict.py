"""The homework verdict on a probe's outputs (``scratchflow_course.homework.verdict``), on small made-up
outputs: each kind of difference named, the tolerance, NaN and inf, and a known mistake's hint.
(``test_homework.py`` runs it on the real probes' outputs.)"""
import numpy as np

from scratchflow_course.homework.verdict import first_difference, judge, seal, unseal


def test_outputs_that_match_pass_and_each_kind_of_difference_is_named():
    expected = {"z": np.array([[1.0, 2.0], [3.0, 4.0]]), "order": np.array([2, 0, 1])}
    assert first_difference({"z": expected["z"] + 1e-10, "order": [2, 0, 1]}, expected) is None
    assert first_difference({"order": [2, 0, 1]}, expected) == "output 'z' is missing"
    assert first_difference({"z": expected["z"].T[:1], "order": [2, 0, 1]}, expected) == \
        "z: shape (1, 2), expected (2, 2)"
    assert first_difference({"z": expected["z"], "order": [2, 1, 0]}, expected) == \
        "order: got [2, 1, 0], expected [2, 0, 1]"
    wrong = expected["z"].copy()
    wrong[1, 0] += 0.5
    wrong[0, 1] -= 0.25
    assert first_difference({"z": wrong, "order": [2, 0, 1]}, expected) == \
        "z: wrong values (largest |error| 0.5) — at index (1, 0) got 3.5, expected 3"


def test_a_nan_or_inf_where_the_reference_is_finite_is_named_and_never_close():
    expected = {"log_det": np.array([0.5, -1.0, 2.0])}
    for bad in (np.nan, np.inf):
        got = {"log_det": np.array([0.5, bad, 2.0])}
        assert first_difference(got, expected) == \
            "log_det: contains NaN or inf where the expected values are finite"
    same_nan = {"log_det": np.array([np.nan, 1.0])}
    assert first_difference(same_nan, {"log_det": np.array([np.nan, 1.0])}) is None
    assert first_difference({"log_det": np.array([np.inf, 1.0])},
                            {"log_det": np.array([np.nan, 1.0])}) is not None


def test_the_tolerance_is_relative_and_tight():
    expected = {"x": np.array([1e6, 1.0])}
    assert first_difference({"x": np.array([1e6 * (1 + 5e-8), 1.0])}, expected) is None
    assert first_difference({"x": np.array([1e6 * (1 + 5e-7), 1.0])}, expected) is not None
    assert first_difference({"x": np.array([1e6, 1.0 + 1e-6])}, expected) is not None


def test_judge_says_ok_not_written_or_what_raised_and_recognises_known_mistakes():
    expected = {"z": np.array([1.0, 2.0])}
    signatures = {"1": seal({"z": np.array([-1.0, -2.0])}, "(sign): reread the sign of the shift"),
                  "2": seal("ValueError: bad", "(crash): check the shapes")}
    assert judge("forward", {"z": [1.0, 2.0]}, expected, signatures) == (True, "forward: ok")
    assert judge("forward", NotImplementedError("task a"), expected, signatures) == \
        (False, "forward: not written yet (task a)")
    passed, message = judge("forward", {"z": [-1.0, -2.0 + 1e-12]}, expected, signatures)
    assert not passed and message.endswith(
        "This looks like a known mistake (sign): reread the sign of the shift")
    passed, message = judge("forward", ValueError("bad"), expected, signatures)
    assert not passed and message == ("forward: your code raised ValueError: bad\n"
                                      "  This looks like a known mistake (crash): check the shapes")
    grader_report = {"__error__": 'File "scratchflow/x.py", line 3\nValueError: bad\n'}
    assert judge("forward", grader_report, expected, signatures)[1].endswith("(crash): check the shapes")
    from_a_module = {"__error__": 'File "scratchflow/x.py", line 3\nscratchflow.train.DivergenceError: nan\n'}
    assert judge("forward", from_a_module, expected, {"1": seal("DivergenceError: nan", "(nan): hint")})[1] \
        .endswith("(nan): hint")
    assert judge("forward", {"z": [5.0, 5.0]}, expected, signatures)[1].count("known") == 0
    assert judge("forward", ValueError("other"), expected, None) == \
        (False, "forward: your code raised ValueError: other")


def test_a_sealed_signature_shows_no_hint_and_opens_only_for_its_own_outputs():
    z = np.array([[0.25, -3.0], [1e-9, 123.456]])
    sealed = seal({"z": z, "order": np.array([2, 0, 1])}, "(aliased): copy x before writing into it")
    stored = b"".join(np.asarray(value).tobytes() for value in sealed.values())
    assert b"copy x" not in stored and z.tobytes() not in stored
    assert unseal({"z": z * (1 + 1e-12), "order": [2, 0, 1]}, sealed) == \
        "(aliased): copy x before writing into it"
    assert unseal({"z": z, "order": [2, 1, 0]}, sealed) is None
    assert unseal({"z": z + 1e-3, "order": [2, 0, 1]}, sealed) is None
    assert unseal({"z": z[:1], "order": [2, 0, 1]}, sealed) is None
    assert unseal({"order": [2, 0, 1]}, sealed) is None
    assert unseal(KeyError("z"), seal("KeyError: 'z'", "hint")) == "hint"
    assert unseal(KeyError("x"), seal("KeyError: 'z'", "hint")) is None


def test_values_on_a_cell_edge_still_match():
    """The grid is centred on the signature's values, so a value one rounding error away from a
    power of two or from zero rounds into the same cell."""
    edges = np.array([1.0, 2.0, 0.5, 0.0, -4.0, 1024.0])
    sealed = seal({"v": edges}, "hint")
    for wiggle in (1e-13, -1e-13):
        assert unseal({"v": edges + wiggle * np.maximum(np.abs(edges), 1)}, sealed) == "hint"
