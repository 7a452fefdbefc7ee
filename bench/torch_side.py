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


def chosen_sides(parser, args):
    """``(dtypes, backends, skipped)`` from ``--dtype`` and ``--backends``: the dtypes to run in
    order, the backends that can run, and the torch side's skip reason (said on stderr) or None."""
    dtypes = [d for d in args.dtype.split(",") if d]
    if not dtypes or any(d not in ("float64", "float32") for d in dtypes):
        parser.error(f"--dtype takes float64 and/or float32, got {args.dtype!r}")
    backends = [b for b in args.backends.split(",") if b]
    skipped = torch_skip_reason() if "torch" in backends else None
    if skipped:
        backends.remove("torch")
        print(f"torch side {skipped}", file=sys.stderr)
    return dtypes, backends, skipped
