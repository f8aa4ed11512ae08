"""``package_facts``: the host's installed packages as the fact ``packages``, read with one shell command.

ansible-core reads Debian's packages through python-apt: each installed package (a foreign architecture's under
``name:arch``) with its version, architecture, section (``category``), the origin of the first package list
that has the installed version (``origin``: ``Debian``, or empty when only dpkg's status file has it) and
``source: apt``. Here dpkg-query lists the installed packages and, where apt-cache is there, ``apt-cache
policy`` says which list each installed version came from and each list's origin. Other package managers
(rpm, apk, pacman, ...) are not read: a host without dpkg fails as ansible-core fails where it finds no usable
manager.
"""

from __future__ import annotations

import re
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

_ALIASES = {"dnf": "rpm", "dnf5": "rpm", "yum": "rpm", "zypper": "rpm", "pkg5": "pkg", "pkgng": "pkg",
            "openbsd_pkg": "pkg_info"}
_MANAGERS = ("apk", "apt", "pacman", "pkg", "pkg_info", "portage", "rpm")
"""ansible-core's package managers, in the order ``auto`` tries them."""
_CHOICES = ("auto", *_MANAGERS, *_ALIASES)
_READ = "apt"
"""The one manager titan-ops reads."""

_ORIGINS = "--titan-origins--"
_INSTALLED = "--titan-installed--"
_SECTIONS = "--titan-sections--"
# Prints the native architecture, then one line per package dpkg knows (status, name, version, architecture,
# section, tab-separated), then (where apt-cache is) apt's package lists with their origins, the version
# table of every installed package, and the section apt gives each installed version (the archive's, which
# can differ from the one dpkg keeps).
_PROBE = rf"""
export LC_ALL=C
command -v dpkg-query >/dev/null 2>&1 || exit 3
native=$(dpkg --print-architecture) || exit 3
echo "$native"
dpkg-query -W -f '${{db:Status-Abbrev}}\t${{Package}}\t${{Version}}\t${{Architecture}}\t${{Section}}\n' || exit 3
command -v apt-cache >/dev/null 2>&1 || exit 0
installed() {{
  dpkg-query -W -f '${{db:Status-Abbrev}}\t${{Package}}\t${{Architecture}}\t${{Version}}\n' | awk -F '\t' \
    -v native="$native" -v with="$1" '$1 !~ /^.[nc]/ {{
      name = ($3 == native || $3 == "all") ? $2 : $2 ":" $3; print with ? name "=" $4 : name }}'
}}
echo '{_ORIGINS}'
apt-cache policy
echo '{_INSTALLED}'
installed '' | xargs -r apt-cache policy
echo '{_SECTIONS}'
installed 1 | xargs -r apt-cache show 2>/dev/null | awk -v native="$native" '
  /^Package: / {{ p = $2 }} /^Architecture: / {{ a = $2 }} /^Section: / {{ s = $2 }}
  /^$/ {{ if (p != "") print ((a == native || a == "all") ? p : p ":" a) "\t" s; p = a = s = "" }}'
exit 0
"""
_PACKAGE_FILE = re.compile(r"^ *-?\d+ (.+)$")
_VERSION = re.compile(r"^ (\*\*\*|   ) \S+ -?\d+$")
_SOURCE = re.compile(r"^ {8} *-?\d+ (.+)$")


def apt_packages(output: str) -> dict[str, list[dict[str, Any]]]:
    """The ``packages`` fact from the probe's output (empty when the host has no dpkg)."""
    listing, _, policies = output.partition(_ORIGINS + "\n")
    origin_of, _, tables = policies.partition(_INSTALLED + "\n")
    tables, _, apt_sections = tables.partition(_SECTIONS + "\n")
    installed_from = _installed_from(tables)
    sections = dict(line.split("\t", 1) for line in apt_sections.splitlines() if "\t" in line)
    origins = _origins(origin_of)
    native, _, rows = listing.partition("\n")
    packages: dict[str, list[dict[str, Any]]] = {}
    for row in rows.splitlines():
        fields = row.split("\t")
        if len(fields) != 5 or fields[0][1:2] in ("n", "c"):
            continue  # not installed, or only its configuration files left
        _, package, version, arch, section = fields
        name = package if arch in (native.strip(), "all") else f"{package}:{arch}"
        origin = origins.get(installed_from.get(name, ""), "")
        entry = {"name": name, "version": version, "arch": arch, "category": sections.get(name, section),
                 "origin": origin, "source": "apt"}
        packages.setdefault(name, []).append(entry)
    return packages


def _origins(policy: str) -> dict[str, str]:
    """Each package list ``apt-cache policy`` names, with the origin of its release (empty when none)."""
    origins: dict[str, str] = {}
    current = None
    for line in policy.splitlines():
        found = _PACKAGE_FILE.match(line)
        if found:
            current = found.group(1).strip()
            origins[current] = ""
        elif current and line.strip().startswith("release "):
            fields = dict(part.split("=", 1) for part in line.strip()[len("release "):].split(",") if "=" in part)
            origins[current] = fields.get("o", "")
    return origins


def _installed_from(tables: str) -> dict[str, str]:
    """Each installed package's first package list holding its installed version (from ``apt-cache policy``)."""
    found: dict[str, str] = {}
    package = None
    in_installed = False
    for line in tables.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            package, in_installed = line[:-1], False
        elif _VERSION.match(line):
            in_installed = line.startswith(" ***")
        elif in_installed and package and package not in found:
            source = _SOURCE.match(line)
            if source:
                found[package] = source.group(1).strip()
    return found


def _managers(given: Any) -> list[str]:
    """The managers asked for, in order, ``auto`` standing for every manager (as ansible-core lists them)."""
    names = [given] if isinstance(given, str) else list(given or ["auto"])
    names = [part.strip().lower() for name in names for part in str(name).split(",") if part.strip()]
    if "auto" in names:
        names.remove("auto")
        names += sorted([*_MANAGERS, *_ALIASES])
    return names


class PackageFacts(Module):
    """The host's installed packages as the fact ``packages`` (apt's packages, read with dpkg-query)."""

    name = "package_facts"
    description = ("The host's installed packages as the fact `packages` (name -> a list of {name, version, arch, "
                   "category, origin, source: apt}), read with dpkg-query and apt-cache; hosts with another "
                   "package manager (rpm, apk, ...) fail as where ansible-core finds no usable one.")
    schema = {
        "type": "object",
        "properties": {
            "manager": {"type": ["array", "string"], "default": ["auto"],
                        "items": {"enum": list(_CHOICES)},
                        "pattern": "^ *({0}) *(, *({0}) *)*$".format("|".join(_CHOICES)),
                        "description": "The package managers to read, in order (`auto`: every one); titan-ops "
                                       "reads `apt` (a Debian host's dpkg) only."},
            "strategy": {"enum": ["first", "all"], "default": "first",
                         "description": "`first`: the first manager with packages; `all`: every one."},
        },
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> str | None:
        managers = _managers(args.get("manager"))
        if _READ not in {_ALIASES.get(name, name) for name in managers}:
            return None
        return host.run(_PROBE).stdout

    def decide(self, args: dict[str, Any], state: str | None, host: HostContext) -> Decision:
        managers = _managers(args.get("manager"))
        packages = apt_packages(state) if state else {}
        if not packages:
            return Decision(False, {"msg": f"Could not detect a supported package manager from the following "
                                           f"list: {managers}, or the required Python library is not installed. "
                                           "Check warnings for details."}, failed=True)
        return Decision(False, {"ansible_facts": {"packages": packages}})
