"""Whether the torch side of a benchmark can run here, and if not, why (said, never hidden).

torch is never a dependency of scratchflow, its tests or CI; the benchmarks compare against it when
it is installed in the Python that runs them, and otherwise print the scratchflow side alone with
the reason the torch side was skipped.
"""
import importlib.util
import sys


def torch_skip_reason():
    """``None`` if ``import torch`` can work in this Python, else the sentence saying why not."""
    if importlib.util.find_spec("torch") is None:
        return (f"skipped: torch is not installed in this Python ({sys.executable}); install it "
                f"beside the package (e.g. in a side venv) to compare")
    return None
