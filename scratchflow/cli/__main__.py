"""``python -m scratchflow.cli ...`` runs the ``scratchflow`` command."""
import sys

from scratchflow.cli import main

sys.exit(main())
