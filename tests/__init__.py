"""The test suite. Its processes keep their compiled modules (and pytest its rewritten tests) in __pycache__
even where ``$PYTHONDONTWRITEBYTECODE`` is set, as in Debian's container images: compiling every module anew
costs each worker, fork server and fresh Python a test starts a second or more of CPU."""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
