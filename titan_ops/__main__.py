"""``python -m titan_ops``."""

import sys

from titan_ops.cli import main

sys.exit(main())
