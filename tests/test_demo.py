"""`monitor demo`: a newcomer sees the whole product work offline."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import monitor


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
