"""What the cluster's processes tell each other through Redis, and `monitor status` reads.

Every key starts with `{namespace}:cluster:`:

    workers:{id}     a worker process's heartbeat (JSON), expires when it stops beating
    scheduler        the active scheduler's heartbeat (JSON), same
    pending          sorted set: source name -> when its check fell due, until a worker
                     has finished it; the scheduler sends a check only for a source not
                     in it, so a backlog holds at most one check per source
    minute:{epoch}   hash: checks finished in that minute, by outcome (kept two hours)
    alerts-queued    set while an alert-delivery run waits in the queue

Nothing here is evidence: losing all of it costs a few duplicate checks (which
record nothing twice) and a blank status for a minute, never an event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import redis

MINUTE_KEEP_SECONDS = 2 * 3600

# Mark a source's check as queued unless it already is and not for too long.
_CLAIM = """
local queued = redis.call('ZSCORE', KEYS[1], ARGV[1])
if queued and tonumber(ARGV[2]) - tonumber(queued) < tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10,
                                health_check_interval=30)


class ClusterState:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.prefix = f"{namespace}:cluster:"
        self._claim = client.register_script(_CLAIM)

    def key(self, name: str) -> str:
        return self.prefix + name

    # --- scheduler side -----------------------------------------------------
    def mark_queued(self, source: str, due_at: float, stale_after: float) -> bool:
        """True if the source's check should be sent now; False while one is queued.

        A mark older than `stale_after` is taken for a lost message and renewed.
        """
        return bool(self._claim(keys=[self.key("pending")],
                                args=[source, repr(due_at), repr(stale_after)]))

    def unmark_queued(self, source: str) -> None:
        self.client.zrem(self.key("pending"), source)

    def scheduler_beat(self, info: dict[str, Any], ttl: float) -> None:
        self.client.set(self.key("scheduler"), json.dumps(info), px=int(ttl * 1000))

    def scheduler_gone(self, scheduler_id: str) -> None:
        current = self.scheduler()
        if current and current.get("id") == scheduler_id:
            self.client.delete(self.key("scheduler"))

    def queue_alert_run(self, ttl: float) -> bool:
        """True if no alert-delivery run is waiting already (then one should be sent)."""
        return bool(self.client.set(self.key("alerts-queued"), "1", nx=True,
                                    px=int(ttl * 1000)))

    # --- worker side --------------------------------------------------------
    def check_done(self, source: str, outcome: str, at: float | None = None) -> None:
        """A worker finished a check: the source may be queued again; count it."""
        minute = self.key(f"minute:{int((at or time.time()) // 60)}")
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zrem(self.key("pending"), source)
            pipe.hincrby(minute, outcome, 1)
            pipe.expire(minute, MINUTE_KEEP_SECONDS)
            pipe.execute()

    def alert_run_started(self) -> None:
        self.client.delete(self.key("alerts-queued"))

    def worker_beat(self, worker_id: str, info: dict[str, Any], ttl: float) -> None:
        self.client.set(self.key(f"workers:{worker_id}"), json.dumps(info), px=int(ttl * 1000))

    def worker_gone(self, worker_id: str) -> None:
        self.client.delete(self.key(f"workers:{worker_id}"))

    # --- reading ------------------------------------------------------------
    def workers(self) -> list[dict[str, Any]]:
        keys = sorted(self._scan("workers:*"))
        values: Any = self.client.mget(keys) if keys else []
        return [json.loads(v) for v in values if v is not None]

    def scheduler(self) -> dict[str, Any] | None:
        value: Any = self.client.get(self.key("scheduler"))
        return json.loads(value) if value is not None else None

    def minutes(self, count: int, now: float | None = None) -> list[tuple[int, dict[str, int]]]:
        """The last `count` whole minutes before the current one, oldest first."""
        current = int((now or time.time()) // 60)
        wanted = list(range(current - count, current))
        with self.client.pipeline(transaction=False) as pipe:
            for minute in wanted:
                pipe.hgetall(self.key(f"minute:{minute}"))
            rows = pipe.execute()
        return [(m * 60, {k.decode(): int(v) for k, v in row.items()})
                for m, row in zip(wanted, rows, strict=True)]

    def queued(self) -> int:
        count: Any = self.client.zcard(self.key("pending"))
        return int(count)

    def oldest_queued(self) -> tuple[str, float] | None:
        first: Any = self.client.zrange(self.key("pending"), 0, 0, withscores=True)
        if not first:
            return None
        name, due_at = first[0]
        return name.decode(), float(due_at)

    def delete_all(self) -> int:
        """Remove every key of this namespace's cluster state (for tests and resets)."""
        keys = list(self._scan("*"))
        deleted: Any = self.client.delete(*keys) if keys else 0
        return int(deleted)

    def _scan(self, pattern: str) -> Iterator[str]:
        """Full key names under our prefix matching `pattern`."""
        for key in self.client.scan_iter(match=self.prefix + pattern, count=1000):
            yield key.decode()
