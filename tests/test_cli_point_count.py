"""``--n``-like counts take every integer in [1, MAX_POINTS], both ends included, and nothing else."""
import argparse
import re

import pytest

from scratchflow.cli.common import MAX_POINTS, point_count


def test_both_ends_are_taken_and_one_past_them_refused():
    assert point_count("1") == 1
    assert point_count(str(MAX_POINTS)) == MAX_POINTS
    for bad in ("0", str(MAX_POINTS + 1)):
        with pytest.raises(argparse.ArgumentTypeError, match="number of points"):
            point_count(bad)


def test_the_help_states_the_real_range_of_a_count():
    from scratchflow.cli import build_parser
    low, high = map(int, re.search(r"go from (\d+) to (\d+)", build_parser().description).groups())
    assert point_count(str(low)) == low and point_count(str(high)) == high
    for bad in (low - 1, high + 1):
        with pytest.raises(argparse.ArgumentTypeError, match=f"in \\[{low}, {high}\\]"):
            point_count(str(bad))
