"""Running the real `monitor` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def monitor(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, env=full_env,
        capture_output=True, text=True, timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
