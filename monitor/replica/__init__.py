"""Local replicas of the sites the monitor watches, on real HTTP servers on 127.0.0.1.

Used by the tests, by `monitor demo` (offline) and by the benchmarks.
"""

from monitor.replica.govkz import GovkzReplica
from monitor.replica.noisy_site import NoisySite

__all__ = ["GovkzReplica", "NoisySite"]
