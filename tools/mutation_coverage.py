"""Which test reaches which library line: one run of the suite under ``coverage``, test by test.

Used by ``tools/mutate.py``: a mutant on a line is run against the tests that execute that line
(and only those). The same run is the baseline: a test that fails on the unmutated copy is listed
and never used to kill a mutant.
"""
import json
import os
import time

import pytest


class _PerTest:
    """A pytest plugin: switch the coverage context to each test's id; note durations and failures."""

    def __init__(self, cov):
        self.cov = cov
        self.durations = {}
        self.failed = set()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.cov.switch_context(item.nodeid)
        start = time.perf_counter()
        yield
        self.durations[item.nodeid] = time.perf_counter() - start
        self.cov.switch_context("")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(report.nodeid)


def collect(copy_dir, test_args, out_path):
    """Run in a child whose cwd is ``copy_dir``: the suite under coverage; write the map to JSON.

    The JSON holds ``lines`` {relative path: {line: [test ids]}}, ``module_tests`` {relative path:
    [test ids that run any of its lines]}, ``durations`` {test id: seconds} and ``failed`` [test ids].
    """
    import coverage   # local import: only the coverage run needs it (an optional tool dependency)

    library = os.path.join(copy_dir, "scratchflow")
    cov = coverage.Coverage(data_file=os.path.join(copy_dir, ".mutation-coverage"),
                            source=[library], branch=False)
    plugin = _PerTest(cov)
    cov.start()
    exit_code = pytest.main(["-q", "-p", "no:cacheprovider", *test_args], plugins=[plugin])
    cov.stop()
    cov.save()
    data = cov.get_data()
    lines, module_tests = {}, {}
    for filename in data.measured_files():
        relative = os.path.relpath(filename, copy_dir)
        by_line = data.contexts_by_lineno(filename)
        lines[relative] = {str(line): sorted(c for c in contexts if c)
                           for line, contexts in by_line.items()}
        module_tests[relative] = sorted({c for contexts in by_line.values() for c in contexts if c})
    with open(out_path, "w") as handle:
        json.dump({"lines": lines, "module_tests": module_tests, "exit_code": int(exit_code),
                   "durations": plugin.durations, "failed": sorted(plugin.failed)}, handle)
