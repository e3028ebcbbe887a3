"""Checking on several machines: one scheduler, many workers, one PostgreSQL.

    scheduler (`monitor run --distributed`, one active, standbys wait on a lock)
      -> queue (Dramatiq on Redis, or RabbitMQ): check(source_name, due_at)
      -> workers (`monitor worker`): the same Checker as the daemon, with per-host
         politeness held across all workers in Redis
      -> the shared event store (PostgreSQL)

settings.py    the [cluster] table of monitor.toml
broker.py      the Dramatiq broker and its queue depth
tasks.py       the messages and what a worker does with them
politeness.py  per-host slots and spacing across the cluster
scheduler.py   the scheduler role and its PostgreSQL advisory lock
worker.py      the worker processes
state.py       heartbeats, queued checks and per-minute counts in Redis
status.py      `monitor status`
metrics.py     Prometheus metrics
"""
