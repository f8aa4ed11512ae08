"""The file modules: copy, template, file, stat, lineinfile, fetch.

Each reads the host's state with one remote command (POSIX sh and
coreutils, no remote Python) and makes a change with at most one more; copy,
template and file create a path that is not there yet in one (see
``Module.guess``).
"""
