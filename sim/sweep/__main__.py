"""``python -m sim.sweep {sweep,analyze} ...``: the core CLI (same as ``cityrisk sweep``)."""

import sys

from sim.cli import main

sys.exit(main())
