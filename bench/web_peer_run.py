"""Serves a changedetection.io datastore with its own Flask app and times its watch
list like the web bench times monitor's pages (bench/web_timing.py). Prints one JSON
line: the timing, or {"error": ...}.

Run only with changedetection.io's interpreter, inside a network namespace with
loopback only (bench/web_peer.py starts it so), with the repository on PYTHONPATH
for bench.web_timing; it is never imported by the project.

    python web_peer_run.py DATASTORE_DIR PORT REQUESTS
"""

import json
import os
import subprocess
import sys
import time

import requests

from bench.web_timing import time_page

STARTUP = 600.0  # seconds: it reads 10,000 watch.json and history files first


def main(datastore: str, port: str, count: str) -> int:
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "changedetection.io"), "-d", datastore,
         "-p", port,
         "-h", "127.0.0.1", "-l", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            if server.poll() is not None:
                tail = (server.stderr.read() if server.stderr else "")[-400:]
                print(json.dumps({"error": f"it exited ({server.returncode}): {tail}"}))
                return 1
            try:
                if requests.get(base + "/", timeout=60).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - started > STARTUP:
                print(json.dumps({"error": f"no answer within {STARTUP:.0f} s"}))
                return 1
            time.sleep(1)
        ready = time.monotonic() - started
        with requests.Session() as session:
            timed = time_page(session, base, "changedetection.io watch list", "/",
                              requests_count=int(count))
        print(json.dumps({"timed": timed.to_json(), "startup_seconds": ready,
                          "pid": os.getpid()}))
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
