"""``python -m ml``: train, evaluate and predict from the command line."""

import sys

from ml.cli import main

if __name__ == "__main__":
    sys.exit(main())
