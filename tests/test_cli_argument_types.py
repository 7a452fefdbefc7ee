"""The CLI's argument types at their edges: the smallest accepted value and the first refused one."""
import argparse

import pytest

from scratchflow.cli import main
from scratchflow.cli.common import positive_float, positive_int, positive_int_list, seed


def test_positive_int_list_accepts_one_and_refuses_zero_or_less():
    assert positive_int_list("1") == [1]
    assert positive_int_list("64, 1,") == [64, 1]
    for bad in ("0", "64,0", "-3", "", ",", "a", "2.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integers"):
            positive_int_list(bad)


def test_positive_int_accepts_one_and_refuses_zero():
    assert positive_int("1") == 1
    for bad in ("0", "-1"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
            positive_int(bad)


def test_positive_float_refuses_zero_negative_nan_and_inf():
    assert positive_float("1e-300") == 1e-300
    for bad in ("0", "-0.1", "nan", "inf"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive number"):
            positive_float(bad)


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["sample", "plot"])
def test_the_model_file_is_required(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command])
    assert exit_info.value.code == 2
    assert "required: --model-file" in capsys.readouterr().err


def test_seed_takes_exactly_the_range_its_help_gives():
    """[0, 2^32 - 1]: every seed NumPy's legacy and new generators both accept."""
    assert seed("0") == 0 and seed("4294967295") == 2 ** 32 - 1
    for bad in ("-1", "4294967296"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"a seed in \[0, 4294967295\]"):
            seed(bad)

