"""``python -m sim.sweep {sweep,analyze} ...`` (same as ``cityrisk sweep`` / ``analyze``)."""

import sys

from .cli import main

sys.exit(main())
