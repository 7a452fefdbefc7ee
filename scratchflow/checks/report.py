"""The outcome of a check: one line per check (passed, failed or skipped with its reason)."""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class CheckResult:
    """One line of a report: which check, how far off, against which tolerance.

    A skipped check has ``skipped`` set to the reason and ``error`` NaN; it is neither passed nor
    failed, and the report prints "skipped" with the reason.
    """
    name: str
    error: float
    tol: float
    note: str = ""
    skipped: str = ""

    @property
    def passed(self):
        """True only for a check that was made and came out finite and within tolerance."""
        return not self.skipped and bool(np.isfinite(self.error) and self.error <= self.tol)

    @property
    def failed(self):
        return not self.skipped and not self.passed

    def verdict(self):
        if self.skipped:
            return f"skipped ({self.skipped})"
        note = f"  ({self.note})" if self.note else ""
        return ("ok" if self.passed else "FAIL") + note


@dataclass
class CheckReport:
    """The outcome of :func:`check_bijector` or :func:`check_module`.

    ``report.passed`` is True when no check failed and at least one was made; ``print(report)``
    shows a table; ``report.assert_ok()`` raises ``AssertionError`` with the failing lines.
    """
    subject: str
    results: list = field(default_factory=list)

    def add(self, name, error, tol, note=""):
        self.results.append(CheckResult(name, float(error), float(tol), note))

    def skip(self, name, reason):
        """Record a check that was not made, and why."""
        self.results.append(CheckResult(name, float("nan"), float("nan"), skipped=reason))

    @property
    def passed(self):
        return not self.failures() and any(result.passed for result in self.results)

    def failures(self):
        return [result for result in self.results if result.failed]

    def skipped(self):
        return [result for result in self.results if result.skipped]

    def __getitem__(self, name):
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; checks: {[r.name for r in self.results]}")

    def __str__(self):
        width = max([len(r.name) for r in self.results] + [len("check")])
        lines = [f"check report for {self.subject}",
                 f"  {'check'.ljust(width)}  {'error':>9}  {'tol':>7}  result"]
        for r in self.results:
            error, tol = ("-", "-") if r.skipped else (f"{r.error:.2e}", f"{r.tol:.0e}")
            lines.append(f"  {r.name.ljust(width)}  {error:>9}  {tol:>7}  {r.verdict()}")
        failed, skipped = len(self.failures()), len(self.skipped())
        lines.append(f"  {len(self.results) - failed - skipped} passed, {failed} failed, "
                     f"{skipped} skipped")
        return "\n".join(lines)

    def assert_ok(self):
        if not self.passed:
            raise AssertionError(str(self))
        return self
