"""``python -m sim.calibrate calibrate SPEC --out DIR``: the core CLI (``cityrisk calibrate``)."""

from sim.cli import main

raise SystemExit(main())
