"""Builds a changedetection.io datastore through its own code: one watch per source
(`ChangeDetectionStore.add_watch`), one snapshot per version (`save_history_blob`,
with the version's text and the moment it was captured), the last check, the last
error of a failing source, and the tags. Reads one JSON line per watch on stdin
(bench/web_peer.py writes them from the web bench's store).

Run only with changedetection.io's interpreter (its own virtualenv under bench/.work),
inside a network namespace with loopback only: it is never imported by the project.

    python web_peer_store.py DATASTORE_DIR VERSION < watches.jsonl
"""

import hashlib
import json
import os
import sys

# A generated datastore needs no durability: 100,000 snapshots would be 100,000 fsyncs.
os.fsync = lambda fd: None

from changedetectionio.store import ChangeDetectionStore  # noqa: E402


def main(path: str, version: str) -> int:
    os.makedirs(path, exist_ok=True)
    store = ChangeDetectionStore(datastore_path=path, include_default_watches=False,
                                 version_tag=version)
    count = snapshots = 0
    for line in sys.stdin:
        w = json.loads(line)
        uuid = store.add_watch(url=w["url"], tag=w["tag"], extras={
            "title": w["title"], "paused": True, "date_created": w["created"]})
        if not uuid:
            print(f"changedetection.io refused {w['url']}", file=sys.stderr)
            return 1
        watch = store.data["watching"][uuid]
        for moment, text in w["versions"]:
            watch.save_history_blob(text, str(moment),
                                    hashlib.md5(text.encode("utf-8")).hexdigest())
            snapshots += 1
        watch["last_checked"] = w["last_checked"]
        watch["last_error"] = w["error"] or False
        watch["last_viewed"] = w["last_viewed"]
        watch.commit()
        count += 1
    store.commit()
    print(json.dumps({"watches": count, "snapshots": snapshots}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
