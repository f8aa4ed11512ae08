"""The ``ansible.module_utils`` titan-ops provides (written for titan-ops; see docs/modules.md)."""
