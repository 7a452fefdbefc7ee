"""Which test reaches which library line: one run of the suite under ``coverage``, test by test.

Used by ``tools/mutate.py``: a mutant on a line is run against the tests that execute that line
(and only those). The same run is the baseline: a test that fails on the unmutated copy is listed
and never used to kill a mutant.

Python subprocesses a test starts (the homework worker, ``python -m scratchflow ...``) are measured
too, with the test's id as their context: coverage's own subprocess support (its ``.pth`` hook,
started by ``COVERAGE_PROCESS_START``) reads a config file whose static ``context`` is
``${MUTATION_TEST_ID}``, an environment variable set to each test's id before it runs. A subprocess
that imports the library from the copy (as the tests make it do: they pass the copy's root) runs the
mutant, so its lines count for that test. A line that no test runs in this process (a ``def`` line,
a default argument, a module constant: run once, at import) maps to every test of its module, as
``tools/mutate.py`` says, even when a subprocess also ran it at its own import.
"""
import glob
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
        os.environ["MUTATION_TEST_ID"] = item.nodeid          # the context of its subprocesses
        start = time.perf_counter()
        yield
        self.durations[item.nodeid] = time.perf_counter() - start
        self.cov.switch_context("")
        os.environ["MUTATION_TEST_ID"] = ""

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
    subprocess_data = os.path.join(copy_dir, ".mutation-coverage-subprocess")
    config = os.path.join(copy_dir, ".mutation-coveragerc")
    with open(config, "w") as handle:
        handle.write(f"[run]\ndata_file = {subprocess_data}\nparallel = True\nsource = {library}\n"
                     "context = ${MUTATION_TEST_ID}\n")
    os.environ["COVERAGE_PROCESS_START"] = config           # read by coverage's .pth hook
    cov = coverage.Coverage(data_file=os.path.join(copy_dir, ".mutation-coverage"),
                            source=[library], branch=False)
    plugin = _PerTest(cov)
    cov.start()
    exit_code = pytest.main(["-q", "-p", "no:cacheprovider", *test_args], plugins=[plugin])
    cov.stop()
    cov.save()
    del os.environ["COVERAGE_PROCESS_START"]
    found = {}                                   # relative path -> {line: set of test ids}
    datas = [cov.get_data()]
    for path in sorted(glob.glob(subprocess_data + ".*")):   # one file per measured subprocess
        datas.append(coverage.CoverageData(basename=path))
        datas[-1].read()
    import_time = {}                             # relative path -> lines no test ran in-process
    for data in datas:
        for filename in data.measured_files():
            relative = os.path.relpath(filename, copy_dir)
            by_line = found.setdefault(relative, {})
            for line, contexts in data.contexts_by_lineno(filename).items():
                by_line.setdefault(line, set()).update(c for c in contexts if c)
                if data is datas[0] and not any(contexts):
                    import_time.setdefault(relative, set()).add(line)
    module_tests = {relative: sorted(set().union(*by_line.values())) if by_line else []
                    for relative, by_line in found.items()}
    for relative, line_numbers in import_time.items():   # run at import in this process: every
        for line in line_numbers:                         # test of the module may see its effect
            found[relative][line].update(module_tests[relative])
    lines = {relative: {str(line): sorted(tests) for line, tests in by_line.items()}
             for relative, by_line in found.items()}
    with open(out_path, "w") as handle:
        json.dump({"lines": lines, "module_tests": module_tests, "exit_code": int(exit_code),
                   "durations": plugin.durations, "failed": sorted(plugin.failed)}, handle)
