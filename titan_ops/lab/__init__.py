"""The lab: local OpenSSH hosts, each in its own mount namespace, for trying and testing titan-ops.

>>> lab = up(hosts=3)            # doctest: +SKIP
>>> lab.inventory_path           # doctest: +SKIP
"""

from titan_ops.lab.lab import Lab, LabHost, down, status, up
from titan_ops.lab.paths import PRIVATE_PATHS, default_directory
from titan_ops.lab.sshd import LabError

__all__ = ["Lab", "LabError", "LabHost", "PRIVATE_PATHS", "default_directory", "down", "status", "up"]
