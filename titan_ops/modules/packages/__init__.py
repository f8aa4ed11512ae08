"""Package managers: ``apt``, ``dnf`` and ``package`` (which dispatches on the host's package manager)."""
