"""titan-ops' own implementation of the commonly used part of ansible-core's module API, sent to a host
with a custom module that imports ``ansible.module_utils`` (see docs/custom-modules.md). The ``ansible`` package
below is never imported on the controller: on the host, :mod:`launcher` serves it from memory."""
