"""ansible-core's integration targets run by titan-ops and by the oracle (see corpus.py)."""
