"""The outcome of a check: one line per check (passed, failed or skipped with its reason)."""
from dataclasses import dataclass, field

import numpy as np

from scratchflow.checks.numerical import gradient_eps, gradient_error

VACUOUS = "vacuous"
"""How the reason of a line that compared nothing starts."""


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

    ``report.passed`` is True when no check failed and at least one was made; a gradient line that
    compared nothing (both sides 0) is skipped as vacuous, with the fix, never passed; ``print(report)``
    shows a table; ``report.assert_ok()`` raises ``AssertionError`` with the failing lines.
    """
    subject: str
    results: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def add(self, name, error, tol, note=""):
        self.results.append(CheckResult(name, float(error), float(tol), note))

    def skip(self, name, reason):
        """Record a check that was not made, and why."""
        self.results.append(CheckResult(name, float("nan"), float("nan"), skipped=reason))

    def add_gradient(self, name, analytic, numeric, scale, tol):
        """A gradient line: ``analytic`` against ``numeric`` (same shape), or skipped as vacuous
        when there is nothing to compare: an empty array, or both sides so close to 0 that even a
        gradient of the wrong sign would pass (2 max|g| <= tol ε, with ε of :func:`gradient_error`;
        in practice both exactly 0 up to the finite differences' round-off)."""
        analytic, numeric = np.asarray(analytic), np.asarray(numeric)
        largest = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0))
        if analytic.size == 0:
            self.skip(name, f"{VACUOUS}: the array is empty")
        elif 2.0 * largest <= tol * gradient_eps(scale):
            self.skip(name, f"{VACUOUS}: both gradients are 0 at these parameters, so a "
                            f"wrong backward would pass too (a zero-initialised last layer, "
                            f"zero_init=True, cuts the layers before it off); build the layer "
                            f"with zero_init=False, or check with perturb=True")
        else:
            self.add(name, gradient_error(analytic, numeric, scale), tol)

    def vacuous(self):
        """The lines skipped because they compared nothing (see :meth:`add_gradient`)."""
        return [result for result in self.results if result.skipped.startswith(VACUOUS)]

    @property
    def passed(self):
        """No check failed and at least one was made (a vacuous line is skipped, not passed)."""
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
        lines = [f"check report for {self.subject}", *self.notes,
                 f"  {'check'.ljust(width)}  {'error':>9}  {'tol':>7}  result"]
        for r in self.results:
            error, tol = ("-", "-") if r.skipped else (f"{r.error:.2e}", f"{r.tol:.0e}")
            lines.append(f"  {r.name.ljust(width)}  {error:>9}  {tol:>7}  {r.verdict()}")
        failed, skipped = len(self.failures()), len(self.skipped())
        vacuous = len(self.vacuous())
        lines.append(f"  {len(self.results) - failed - skipped} passed, {failed} failed, "
                     f"{skipped} skipped" + (f" ({vacuous} vacuous: compared nothing)" if vacuous else ""))
        return "\n".join(lines)

    def assert_ok(self):
        if not self.passed:
            raise AssertionError(str(self))
        return self
