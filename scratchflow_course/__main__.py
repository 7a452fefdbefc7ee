"""``python -m scratchflow_course``: the ``scratchflow-course`` command without the console script."""
import sys

from scratchflow_course.grading.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
