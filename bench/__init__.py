"""Benchmarks: govkz-monitor against urlwatch on a local noisy site (`make bench`)."""

import os

# Every benchmark serves its pages from loopback, which the fetcher refuses unless
# allowed; the monitor processes the benchmarks start inherit this.
os.environ.setdefault("MONITOR_ALLOW_PRIVATE_NETWORKS", "1")
