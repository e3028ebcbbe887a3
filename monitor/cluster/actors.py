"""The broker module Dramatiq's CLI loads in each worker process it starts for
`monitor worker --processes N` (`dramatiq monitor.cluster.actors:broker`): the
options come from `monitor worker` through the environment (monitor.cluster.worker)."""

from __future__ import annotations

from monitor.cluster.worker import configure_logging, options_from_environment, worker_cluster

_options = options_from_environment()
configure_logging(_options.log_level)
cluster = worker_cluster(_options)
broker = cluster.broker
