"""`monitor demo`: a newcomer sees the whole product work offline."""

from __future__ import annotations

import json
import os
import re
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

from cli_helpers import monitor

TITLE = "Human Rights and the Development of the Penitentiary System"


def test_demo_shows_an_edit_reaching_email_and_webhook_offline(tmp_path: Path) -> None:
    result = monitor("demo", "--keep", str(tmp_path / "demo"), cwd=tmp_path, timeout=60)
    assert result.code == 0, result.err + result.out
    out = result.out
    assert "Three more checks through the noise: unchanged, unchanged, unchanged." in out
    assert "Next check: changed [high]." in out
    assert "[-144th-]{+145th+}" in out and "[-Bogner-]{+Bognar+}" in out
    assert "2 delivered" in out
    assert "signature verified  type=change.detected significance=high" in out
    assert ("subject: [high] Human Rights and the Development of the Penitentiary System"
            in out)  # the document's title leads; the source's name follows it
    assert "(mfa-human-rights-penitentiary-en): 1 number changed" in out
    assert "log intact" in out
    history = monitor("--database", f"sqlite:///{tmp_path / 'demo' / 'demo.db'}", "history",
                      "mfa-human-rights-penitentiary-en", "--format", "json", cwd=tmp_path)
    assert [v["origin"] for v in history.json()["versions"]] == ["baseline", "captured",
                                                                  "captured"]

    # What it made, in the folder it names (default ./demo-output), for opening later.
    made = tmp_path / "demo-output"
    assert f"What the demo made is in demo-output{os.sep}:" in out
    assert f"Open the report in a browser: {(made / 'report.html').as_uri()}" in out
    assert sorted(p.name for p in made.iterdir()) == [
        "alert-email.eml", "alert-webhook.json", "evidence-bundle.zip", "report.html"]
    page = (made / "report.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and TITLE in page
    assert re.search(r"<del[^>]*>144th</del>", page) and re.search(r"<ins[^>]*>145th</ins>",
                                                                   page)
    mail = message_from_bytes((made / "alert-email.eml").read_bytes(), policy=policy.default)
    assert mail["To"] == "desk@localhost" and TITLE in mail["Subject"]
    body = mail.get_body(("plain",))
    assert body is not None and "mfa-human-rights-penitentiary-en" in body.get_content()
    hook = json.loads((made / "alert-webhook.json").read_bytes())
    assert set(hook) == {"type", "timestamp", "data"}  # the Standard Webhooks envelope
    assert hook["type"] == "change.detected" and hook["data"]["title"].startswith(TITLE)
    # The command it prints, as printed, in a new shell with the PATH the demo had.
    command = re.search(r"^   Check the bundle as anyone could: (.+)$", out, re.M)
    assert command, out
    checked = subprocess.run(["env", "-i", f"HOME={tmp_path}", f"PATH={os.environ['PATH']}",
                              "bash", "-e", "-c", command.group(1)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert ("bundle intact: mfa-human-rights-penitentiary-en: versions 1-3"
            in checked.stdout), checked.stdout
    assert not (tmp_path / "var").exists()  # the user's store is not touched
    assert not (tmp_path / "demo" / "keys").exists()  # the bundle was made from a copy


def test_a_demo_folder_that_cannot_be_made_is_said_before_the_demo_runs(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = monitor("demo", "--output", str(tmp_path / "a-file" / "out"), cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("error: cannot make the demo's folder ")
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert "replica" not in result.out  # nothing ran
