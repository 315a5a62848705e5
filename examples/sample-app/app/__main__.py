"""Entry point: ``python3 -m app`` serves HTTP on ``$PORT`` (default 8000)."""

import sys

from app.server import main

sys.exit(main())
