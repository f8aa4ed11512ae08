"""Custom modules: a user's own modules in ``library/`` folders, run on the host by Ansible's module
protocol (see docs/custom-modules.md).

:mod:`.library` finds a module by its name (a built-in one first, then a custom module's file),
:mod:`.program` turns the file and the task's arguments into one remote command, and :mod:`.results`
reads what the module printed. The module API a Python module
may import (``ansible.module_utils.basic``, ...) is titan-ops' own, in ``api/``, sent with the module.
"""

from __future__ import annotations

from titan_ops.modules.custom.library import find_module, find_module_file, library_folder, module_name
from titan_ops.modules.custom.program import CustomModule, module_at

__all__ = ["CustomModule", "find_module", "find_module_file", "library_folder", "module_at", "module_name"]
