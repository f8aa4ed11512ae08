"""The file modules: copy, template, file, stat, lineinfile, fetch.

Each reads the host's state with one remote command (POSIX sh and
coreutils, no remote Python) and makes a change with at most one more; copy,
template and file create a path that is not there yet in one (see
``Module.guess``).
"""

from __future__ import annotations

from titan_ops.modules.base import Module
from titan_ops.modules.files.copy import Copy
from titan_ops.modules.files.fetch import Fetch
from titan_ops.modules.files.file import File
from titan_ops.modules.files.lineinfile import LineInFile
from titan_ops.modules.files.stat import Stat
from titan_ops.modules.files.template import Template

FILE_MODULES: tuple[Module, ...] = (Copy(), Template(), File(), Stat(), LineInFile(), Fetch())

__all__ = ["FILE_MODULES"]
