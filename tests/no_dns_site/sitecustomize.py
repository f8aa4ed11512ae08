"""Loaded by every Python process the tests start: refuse name lookups outside this machine."""

import os

if os.environ.get("TITAN_OPS_TEST_DNS_LOG"):
    import titan_ops_no_dns

    titan_ops_no_dns.install()
