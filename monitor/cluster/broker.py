"""The Dramatiq broker a cluster uses: Redis by default, RabbitMQ for an amqp:// URL.

Messages are acknowledged after the work is done (Dramatiq's way), so a worker that
dies mid-check loses nothing: RabbitMQ gives its unacknowledged messages to others
as soon as its connection drops; the Redis broker does it once the dead worker has
been silent for `redeliver_after` (its heartbeat is every Redis call it makes, at
least once a second while it runs) and a maintenance pass runs on the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from dramatiq import Broker
from dramatiq.middleware import Middleware, Retries, ShutdownNotifications, TimeLimit

from monitor.cluster.settings import ClusterSettings

RETRY_BACKOFF_MS = (5_000, 300_000)  # first retry after ~5 s, never later than 5 min
DEAD_MESSAGE_TTL_MS = 24 * 3600 * 1000  # a dead-lettered message is kept one day
# Maintenance (moving dead workers' messages back) runs on a random share of Redis
# calls: 100,000 / redeliver_after per million, between Dramatiq's own 0.1 % (for
# redeliver_after of 100 s and more) and 10 % (1 s), so a short redeliver_after
# (tests) also gets frequent passes on a quiet queue.
MAINTENANCE_PER_MILLION = (1_000, 100_000)


@dataclass(frozen=True)
class QueueDepth:
    ready: int  # waiting for a worker
    taken: int  # fetched by a worker, not yet acknowledged (-1: the broker does not say)
    delayed: int  # waiting for a retry
    dead: int  # given up after the last retry


def middleware(settings: ClusterSettings) -> list[Middleware]:
    return [
        TimeLimit(time_limit=int(settings.time_limit * 1000), interval=1000),
        ShutdownNotifications(),
        Retries(max_retries=settings.max_retries, min_backoff=RETRY_BACKOFF_MS[0],
                max_backoff=RETRY_BACKOFF_MS[1]),
    ]


def make_broker(settings: ClusterSettings) -> Broker:
    if settings.broker_kind == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=settings.broker_url, middleware=middleware(settings),
                              confirm_delivery=True)
    from dramatiq.brokers.redis import RedisBroker

    low, high = MAINTENANCE_PER_MILLION
    chance = max(low, min(high, int(100_000 / settings.redeliver_after)))
    return RedisBroker(
        url=settings.broker_url, namespace=settings.namespace, middleware=middleware(settings),
        heartbeat_timeout=int(settings.redeliver_after * 1000), maintenance_chance=chance,
        dead_message_ttl=DEAD_MESSAGE_TTL_MS,
    )


def queue_depth(broker: Broker, queue: str) -> QueueDepth:
    """How many messages a queue holds, as the broker counts them."""
    from dramatiq.brokers.redis import RedisBroker

    if isinstance(broker, RedisBroker):
        # Keys of Dramatiq's Redis broker (see its dispatch.lua): the list holds the
        # ids waiting, the .msgs hash every message not yet acknowledged.
        key = f"{broker.namespace}:{queue}"
        with broker.client.pipeline(transaction=False) as pipe:
            pipe.llen(key)
            pipe.hlen(f"{key}.msgs")
            pipe.hlen(f"{key}.DQ.msgs")
            pipe.zcard(f"{key}.XQ")
            ready, unacked, delayed, dead = pipe.execute()
        return QueueDepth(int(ready), max(0, int(unacked) - int(ready)), int(delayed), int(dead))
    ready, delayed, dead = broker.get_queue_message_counts(queue)  # type: ignore[attr-defined]
    return QueueDepth(int(ready), -1, int(delayed), int(dead))
