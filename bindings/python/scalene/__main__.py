"""``python -m scalene ...``: the same as the ``scalene`` command."""

import sys

from scalene.cli import main

if __name__ == "__main__":
    sys.exit(main())
