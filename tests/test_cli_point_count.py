"""``--n``-like counts take every integer in [1, MAX_POINTS], both ends included, and nothing else."""
import argparse

import pytest

from scratchflow.cli.common import MAX_POINTS, point_count


def test_both_ends_are_taken_and_one_past_them_refused():
    assert point_count("1") == 1
    assert point_count(str(MAX_POINTS)) == MAX_POINTS
    for bad in ("0", str(MAX_POINTS + 1)):
        with pytest.raises(argparse.ArgumentTypeError, match="number of points"):
            point_count(bad)
