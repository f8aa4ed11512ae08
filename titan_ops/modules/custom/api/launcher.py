"""Runs on the host: a custom module that imports ``ansible.module_utils``, with titan-ops' module API
served from memory (no file of it is written on the host).

The controller sends this file followed by one line, ``main("<payload>")``: the payload is base64 of
zlib-compressed JSON holding the module's name and source and the API's sources by module name. The
module's parameters are in the file named by the first argument (``{"ANSIBLE_MODULE_ARGS": {...}}``).
A module that raises prints a failed result, as ansible-core's wrapper does.
"""

from __future__ import annotations

import base64
import importlib.abc
import importlib.util
import json
import os
import sys
import traceback
import zlib


class _ApiFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the ``ansible`` package from the sources sent; an ``ansible`` module titan-ops does not
    provide is an ImportError that says so."""

    def __init__(self, sources: dict, packages: list):
        self.sources = sources
        self.packages = set(packages)

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "ansible" and not fullname.startswith("ansible."):
            return None
        if fullname not in self.sources:
            provided = ", ".join(sorted(name for name in self.sources if name not in self.packages))
            raise ImportError(f"titan-ops does not provide {fullname} to custom modules (it provides: {provided})",
                              name=fullname)
        return importlib.util.spec_from_loader(fullname, self, is_package=fullname in self.packages)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source = self.sources[module.__name__]
        exec(compile(source, f"<titan-ops {module.__name__}>", "exec"), module.__dict__)


def main(payload: str) -> None:
    data = json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))
    sys.meta_path.insert(0, _ApiFinder(data["sources"], data["packages"]))
    with open(sys.argv[1], "rb") as handle:
        arguments = handle.read()
    try:
        basic = importlib.import_module("ansible.module_utils.basic")
        basic._ANSIBLE_ARGS = arguments
        basic._PRIVATE_FOLDER = os.path.dirname(os.path.abspath(sys.argv[1]))
        sys.argv = [data["name"]]
        code = compile(data["module"], data["name"], "exec")
        exec(code, {"__name__": "__main__", "__file__": data["name"], "__builtins__": __builtins__})
    except SystemExit:
        raise
    except BaseException as error:  # the module's own failure: reported as its result
        print(json.dumps({"failed": True, "msg": f"Task failed: Module failed: {error}",
                          "exception": traceback.format_exc()}))
        sys.exit(1)
