"""``python -m sim`` = ``cityrisk``."""

import sys

from .cli import main

sys.exit(main())
