"""The ``ansible`` package as a custom module sees it on the host: titan-ops' module API, nothing else."""
