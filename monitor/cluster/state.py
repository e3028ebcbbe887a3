"""What the cluster's processes tell each other through Redis, and `monitor status` reads.

Every key starts with `{namespace}:cluster:`:

    workers:{id}     a worker process's heartbeat (JSON), expires when it stops beating
    scheduler        the active scheduler's heartbeat (JSON), same
    due              sorted set: source name -> when its next check falls due (the
                     scheduler's due times: DueSet)
    intervals        hash: source name -> its interval in seconds (for the claim)
    pending          sorted set: source name -> when its check fell due, until a worker
                     has finished it; the scheduler sends a check only for a source not
                     in it, so a backlog holds at most one check per source; a
                     scheduler taking over clears its recent marks (forget_queued)
    minute:{epoch}   hash: checks finished in that minute, by outcome (kept two hours)
    alerts-queued    set while an alert-delivery run waits in the queue

Nothing here is evidence: losing all of it costs a few duplicate checks (which
record nothing twice) and a blank status for a minute, never an event (a scheduler
that finds `due` empty fills it again from the catalog, each source due within its
first-run spread).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Iterator
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

# Take up to ARGV[2] sources due by ARGV[1] and set each due again, atomically: at its
# due time plus its interval, or an interval from now when it fell that far behind.
# A scheduler that dies after the claim loses nothing but those checks' sends.
_CLAIM_DUE = """
local now = tonumber(ARGV[1])
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
                         tonumber(ARGV[2]))
for i = 1, #items, 2 do
  local interval = tonumber(redis.call('HGET', KEYS[2], items[i]) or ARGV[3])
  local nxt = tonumber(items[i + 1]) + interval
  if nxt <= now then nxt = now + interval end
  redis.call('ZADD', KEYS[1], nxt, items[i])
end
return items
"""
BATCH = 5000
DEFAULT_INTERVAL = 900


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

    def due_times(self) -> DueSet:
        return DueSet(self.client, self.key("due"), self.key("intervals"))

    # --- scheduler side -----------------------------------------------------
    def mark_queued(self, source: str, due_at: float, stale_after: float) -> bool:
        """True if the source's check should be sent now; False while one is queued.

        A mark older than `stale_after` is taken for a lost message and renewed.
        """
        return bool(self._claim(keys=[self.key("pending")],
                                args=[source, repr(due_at), repr(stale_after)]))

    def unmark_queued(self, source: str) -> None:
        self.client.zrem(self.key("pending"), source)

    def forget_queued(self, since: float) -> int:
        """Drop the "queued" marks of checks due since `since` (Unix seconds); how many.
        A scheduler taking over does this: the last one may have died between marking
        a check and sending it, and such a mark would hold its source off for
        `stale_after` (ten minutes). Only the recent marks can be such: an older
        backlog stays marked. The cost: a recent check that really was queued may be
        sent once more, which records nothing twice."""
        count: Any = self.client.zremrangebyscore(self.key("pending"), since, "+inf")
        return int(count)

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


class DueSet:
    """The cluster scheduler's due times (monitor.due.DueTimes) in a Redis sorted set.

    A claim (`pop_due`) takes what is due and sets each source due again in one Lua
    call, so a source is due again even if the scheduler dies right after; a
    standby that takes over starts sending at once, from where the last one left.
    A worker honouring a check's `again_at` moves the source (`again`).
    """

    thread_safe = True  # every call is one Redis command, pipeline or script

    def __init__(self, client: redis.Redis, due_key: str, intervals_key: str) -> None:
        self.client, self.due_key, self.intervals_key = client, due_key, intervals_key
        self._claim = client.register_script(_CLAIM_DUE)

    def __len__(self) -> int:
        count: Any = self.client.zcard(self.due_key)
        return int(count)

    def schedule(self, name: str, interval: int, at: float) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.intervals_key, name, str(interval))
            pipe.zadd(self.due_key, {name: at})
            pipe.execute()

    def schedule_many(self, items: Iterable[tuple[str, int, float]]) -> None:
        batch: list[tuple[str, int, float]] = []
        for item in items:
            batch.append(item)
            if len(batch) >= BATCH:
                self._schedule_batch(batch)
                batch = []
        if batch:
            self._schedule_batch(batch)

    def _schedule_batch(self, batch: list[tuple[str, int, float]]) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hset(self.intervals_key, mapping={n: i for n, i, _ in batch})
            pipe.zadd(self.due_key, {n: at for n, _, at in batch}, nx=True)
            pipe.execute()

    def discard(self, name: str) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(self.due_key, name)
            pipe.hdel(self.intervals_key, name)
            pipe.execute()

    def retain(self, names: Collection[str]) -> None:
        gone = [member.decode() for member, _ in
                self.client.zscan_iter(self.due_key, count=BATCH)
                if member.decode() not in names]
        for start in range(0, len(gone), BATCH):
            part = gone[start:start + BATCH]
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zrem(self.due_key, *part)
                pipe.hdel(self.intervals_key, *part)
                pipe.execute()

    def pop_due(self, now: float, limit: int) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        items: Any = self._claim(keys=[self.due_key, self.intervals_key],
                                 args=[repr(now), limit, DEFAULT_INTERVAL])
        return [(items[i].decode(), float(items[i + 1])) for i in range(0, len(items), 2)]

    def next_at(self) -> float | None:
        first: Any = self.client.zrange(self.due_key, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def due_at(self, name: str) -> float | None:
        score: Any = self.client.zscore(self.due_key, name)
        return float(score) if score is not None else None

    def checked(self, name: str, due_at: float, interval: int,
                again_at: float | None) -> float | None:
        """Sent: the claim has set the next due time already (not known here)."""
        if again_at is not None:
            self.again(name, again_at)
        return again_at

    def again(self, name: str, at: float) -> None:
        """Check `name` at `at` rather than at its interval (if it is still scheduled)."""
        self.client.zadd(self.due_key, {name: at}, xx=True)
