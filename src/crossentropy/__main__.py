"""``python -m crossentropy``: the command line (see ``crossentropy --help``)."""

from __future__ import annotations

import sys

from crossentropy.cli import main

if __name__ == "__main__":
    sys.exit(main())
