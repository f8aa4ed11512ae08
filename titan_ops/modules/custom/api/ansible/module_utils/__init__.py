"""The ``ansible.module_utils`` titan-ops provides (written for titan-ops; see docs/custom-modules.md)."""
