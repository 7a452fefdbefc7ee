"""What a public test of the release calls: run one probe on the installed package (the student's
code) with the public seed and judge it against the values stored in ``tests/expected/``."""
import json
import os

import numpy as np

from scratchflow_course.homework import all_probes
from scratchflow_course.homework.verdict import judge


def load_expected(folder, task):
    """``(meta, expected, signatures)`` of a task from ``folder`` (``tests/expected``): meta is the
    JSON (seed, what each probe checks, hints), expected[probe][output] and
    signatures[probe][mistake][output] the stored arrays."""
    with open(os.path.join(folder, f"{task}.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    expected, signatures = {}, {}
    with np.load(os.path.join(folder, f"{task}.npz"), allow_pickle=False) as arrays:
        for key in arrays.files:
            parts = key.split("/")
            if parts[0] == "expected":                              # expected/<probe>/<output>
                expected.setdefault(parts[1], {})[parts[2]] = arrays[key]
            else:                                                   # mistake/<id>/<probe>/<output>
                signatures.setdefault(parts[2], {}).setdefault(parts[1], {})[parts[3]] = arrays[key]
    return meta, expected, signatures


def run_probe(task, probe, seed):
    """The probe's outputs, or the exception it raised."""
    function = dict((name, f) for name, f, _ in all_probes()[task])[probe]
    try:
        return function(seed)
    except Exception as error:                                      # judged, not crashed on
        return error


def check_probe(test_file, task, probe):
    """Assert that probe ``probe`` of ``task`` gives the stored values (the public test body)."""
    folder = os.path.join(os.path.dirname(os.path.abspath(test_file)), "expected")
    meta, expected, signatures = load_expected(folder, task)
    outputs = run_probe(task, probe, meta["seed"])
    passed, message = judge(meta["probes"][probe], outputs, expected[probe], signatures.get(probe),
                            meta["mistakes"])
    assert passed, message
