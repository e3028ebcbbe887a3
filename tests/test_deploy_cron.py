"""deploy/cron/govkz-monitor, the no-daemon recipe: its command line, exactly as shipped,
run as cron runs it (`/bin/sh -c`, with the file's variables), against a store of its
own. Only the installed paths are replaced by the test's: the program (this venv's
`monitor`), monitor.toml, the environment file and the lock."""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_helpers import source, types, webhook, write_config

from monitor.replica import GovkzReplica
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

CRON = Path(__file__).resolve().parent.parent / "deploy" / "cron" / "govkz-monitor"
HOOK_ENV = "MONITOR_TEST_HOOK_SECRET"


def shipped_job() -> tuple[list[str], str, dict[str, str], str]:
    """The schedule's five fields, the user, the variables and the command."""
    variables, jobs = {}, []
    for line in CRON.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"[A-Za-z_][A-Za-z0-9_]*=", line):
            name, value = line.split("=", 1)
            variables[name] = value
            continue
        jobs.append(line.split(None, 6))
    assert len(jobs) == 1, jobs
    fields = jobs[0]
    return fields[:5], fields[5], variables, fields[6]


def test_the_cron_file_is_one_job_of_the_service_user_every_quarter_hour() -> None:
    schedule, user, variables, command = shipped_job()
    assert schedule == ["*/15", "*", "*", "*", "*"] and user == "govkz-monitor"
    assert variables["MONITOR_CONFIG"] == "/etc/govkz-monitor/monitor.toml"
    assert command.startswith("flock -n ")  # a pass still running: the next one is skipped
    assert "%" not in command  # cron would cut the line there


class Cron:
    """The shipped job with the test's paths, run as cron would."""

    def __init__(self, config: Path, folder: Path) -> None:
        _, _, variables, command = shipped_job()
        self.lock = folder / "govkz-monitor.lock"
        environment = folder / "environment"
        # The loopback pages of the test are allowed here, as a secret is given: only
        # through the file the job reads.
        environment.write_text(f"MONITOR_ALLOW_PRIVATE_NETWORKS=1\n{HOOK_ENV}={SECRET}\n",
                               encoding="utf-8")
        for installed, here in (("/opt/govkz-monitor/bin/monitor", f"{sys.prefix}/bin/monitor"),
                                ("/etc/govkz-monitor/environment", str(environment)),
                                ("/run/lock/govkz-monitor.lock", str(self.lock))):
            assert installed in command, installed
            command = command.replace(installed, here)
        self.command = command
        self.env = {**variables, "MONITOR_CONFIG": str(config), "HOME": str(folder),
                    "LOGNAME": "govkz-monitor"}
        self.folder = folder

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.env["SHELL"], "-c", self.command], env=self.env,
                              cwd=self.folder, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_cron_job_records_an_edit_sends_its_alert_and_never_overlaps(
        tmp_path: Path) -> None:
    with GovkzReplica() as replica, WebhookReceiver() as hook:
        url = replica.add_article("mfa", 71, title="Resolution", paragraphs=[
            "The council approved 4 grants.", "Details follow."],
            created_date="2026-05-01T09:00:00.000+05:00")
        db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
        config = write_config(tmp_path, db_url, source(url, name="resolution"),
                              webhook(hook.url, HOOK_ENV))
        cron = Cron(config, tmp_path)

        first = cron.run()
        assert first.returncode == 0 and first.stdout == "" and first.stderr == "", first
        assert "VersionCaptured" in types(db_url, "resolution")

        replica.edit_article(71, "en", paragraphs=["The council approved 5 grants.",
                                                   "Details follow."])
        with open(cron.lock, "w") as held:  # a pass still running holds the lock
            fcntl.flock(held, fcntl.LOCK_EX)
            skipped = cron.run()
        assert skipped.returncode != 0 and skipped.stdout == skipped.stderr == ""
        assert "ChangeDetected" not in types(db_url, "resolution")  # it did nothing

        second = cron.run()
        assert second.returncode == 0 and second.stderr == "", second
        assert "ChangeDetected" in types(db_url, "resolution")
        assert len(hook.received) == 1  # signed with the secret from the environment file
        assert "5 grants" in hook.received[0].body.decode()
