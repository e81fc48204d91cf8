"""``python -m sim.calibrate calibrate SPEC --out DIR``."""

from .cli import main

raise SystemExit(main())
