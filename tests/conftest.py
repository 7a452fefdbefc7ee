"""Test settings. Hypothesis profiles: ``ci`` (default; derandomized, 100 examples) and ``thorough`` (local, 1000).

Choose with ``HYPOTHESIS_PROFILE=thorough python -m pytest``.
"""
import os

# The networks in these tests are tiny: BLAS threads only cost time (badly so on a loaded 2-core
# machine). Set before NumPy is first imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
