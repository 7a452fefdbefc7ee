"""Hypothesis profiles: ``ci`` (default; derandomized, 100 examples) and ``thorough`` (local, 1000).

Choose with ``HYPOTHESIS_PROFILE=thorough python -m pytest``.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
