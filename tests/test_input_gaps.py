"""Input the issue-9 hardening still let through: a --name that moved a source, settings
that passed at load and failed at use, passwords quoted in messages or kept from a
fragment, two spellings of one page, odd intervals, and page text that spoofs a terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Result, monitor

from monitor.naming import same_url
from monitor.store import open_store

Run = Callable[..., Result]


def _refused(result: Result, *words: str) -> None:
    assert result.code == 2, (result.out, result.err)
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    for word in words:
        assert word in result.err, result.err


def _watched(run: Run) -> dict[str, str]:
    return {s["name"]: s["url"] for s in run("sources", "--format", "json").json()}


def _log_text(db_url: str) -> str:
    store = open_store(db_url)
    try:
        return repr([event.data for event in store.read_all()])
    finally:
        store.engine.dispose()


def test_a_name_never_moves_to_another_url(run: Run) -> None:
    assert run("add", "--no-probe", "--name", "law", "https://example.net/one").code == 0
    _refused(run("add", "--name", "law", "https://example.net/two"),
             "--name law already watches https://example.net/one", "choose another --name",
             "removed and added again")
    nfd = "\u0438\u0306"  # и + combining breve: й spelled in two code points
    assert run("add", "--no-probe", "--name", "\u0439", "https://example.net/yot").code == 0
    _refused(run("add", "--name", nfd, "https://example.net/other"), "already watches")
    again = run("add", "--no-probe", "--name", "law", "https://EXAMPLE.net:443/one")
    assert again.code == 0 and "already watched as law" in again.out, again.err
    assert _watched(run) == {"law": "https://example.net/one",
                             "\u0439": "https://example.net/yot"}


@pytest.mark.parametrize("url", [
    "  https://user:s3cretpw@example.com/p",
    "https:user:s3cretpw@example.com/p",
    "https://user:s3cretpw\uff20example.com/p",
    "https://user:s3cretpw%40example.com/p",
    "ftp://user:s3cretpw@example.com/p",
])
def test_no_message_quotes_a_password(run: Run, tmp_path: Path, url: str) -> None:
    result = run("add", "--no-probe", url)
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert "s3cretpw" not in result.err and "…" in result.err, result.err
    config = tmp_path / "pw.toml"
    config.write_text(f'[[sources]]\nname = "p"\nurl = "{url}"\n', encoding="utf-8")
    loaded = monitor("--config", str(config), "sources", cwd=tmp_path)
    assert loaded.code == 2 and "s3cretpw" not in loaded.err, loaded.err


def test_a_fragment_is_dropped_before_the_url_is_registered(run: Run, db_url: str) -> None:
    result = run("add", "--no-probe", "https://example.com/page#user:s3cretpw@x", "--format",
                 "json")
    assert result.code == 0, result.err
    assert _watched(run) == {"example-com-page": "https://example.com/page"}
    assert "s3cretpw" not in _log_text(db_url)


def test_a_configured_fragment_is_dropped(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[database]\nurl = "sqlite:///var/monitor.db"\n[[sources]]\n'
                      'name = "page"\nurl = "https://example.com/page#k=s3cretpw"\n')
    assert monitor("--config", str(config), "init", cwd=tmp_path).code == 0
    listed = monitor("--config", str(config), "sources", "--format", "json", cwd=tmp_path)
    assert [s["url"] for s in listed.json()] == ["https://example.com/page"]
    assert b"s3cretpw" not in (tmp_path / "var" / "monitor.db").read_bytes()


@pytest.mark.parametrize("spelling", ["https://example.com/a/./b", "https://example.com/a/../a/b",
                                      "https://example.com./a/b", "https://example.com/a/%2E/b"])
def test_dot_segments_and_a_trailing_dot_name_the_same_page(run: Run, spelling: str) -> None:
    assert same_url(spelling) == same_url("https://example.com/a/b")
    assert run("add", "--no-probe", "https://example.com/a/b").code == 0
    again = run("add", "--no-probe", spelling)
    assert again.code == 0 and "already watched as example-com-a-b" in again.out, again.err
    assert list(_watched(run)) == ["example-com-a-b"]


def test_a_new_source_is_registered_under_its_plain_address(run: Run) -> None:
    result = run("add", "--no-probe", "https://Example.com./a/./c/../b?q=1#top", "--format", "json")
    assert result.code == 0, result.err
    assert list(_watched(run).values()) == ["https://Example.com/a/b?q=1"]


def test_dot_segments_keep_folders_and_the_root() -> None:
    assert same_url("https://example.com/a/b/..") == "https://example.com/a/"
    assert same_url("https://example.com/../x") == "https://example.com/x"
    assert same_url("https://example.com/a..b/c.") == "https://example.com/a..b/c."


@pytest.mark.parametrize("interval,words", [
    ("", ["--interval: '' is not a duration"]),
    ("\u0661s", ["--interval:", "is not a duration"]),
    ("\u0661\u0662", ["is not a duration"]),
])
def test_odd_intervals_are_refused(run: Run, interval: str, words: list[str]) -> None:
    _refused(run("add", "https://example.com/page", "--interval", interval), *words)
    assert _watched(run) == {}


def test_a_fractional_stored_interval_is_listed_in_seconds() -> None:
    from monitor.cli.sources import _human

    assert _human(1.5) == "1.5s"
    assert _human(900.0) == "15m"
    assert _human(900) == "15m"


def _config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "monitor.toml"
    config.write_text('[database]\nurl = "sqlite:///var/monitor.db"\n' + body, encoding="utf-8")
    return config


WEBHOOK = '[[alerts]]\nname = "hook"\nkind = "webhook"\nsecret_env = "HOOK_SECRET"\n'
BAD_HOOK = ["alerts[0].url:", "not an http(s) URL with a valid host"]
EMAIL = '[[alerts]]\nname = "desk"\nkind = "email"\nhost = "smtp.example"\n'


@pytest.mark.parametrize("body,words", [
    ('[fetch]\nmax_bytes = "0"\n', ["fetch.max_bytes: '0': must be at least 1 byte"]),
    ('[fetch]\nmax_bytes = 0\n', ["fetch.max_bytes:"]),
    (WEBHOOK + 'url = "https://hooks.example:99999/x"\n', BAD_HOOK),
    (WEBHOOK + 'url = "https://[::1/x"\n', BAD_HOOK),
    (WEBHOOK + 'url = "https://:80/x"\n', BAD_HOOK),
    (EMAIL + 'from = "m@example.org"\nto = ["c@d.e\\r\\nBcc: evil@x.y"]\n',
     ["alerts[0].to:", "line break or another control character"]),
    (EMAIL + 'from = "m@example.org\\nBcc: evil@x.y"\nto = "c@d.e"\n', ["alerts[0].from:"]),
    ('[[sources]]\nname = "p"\nkind = "govkz"\nurl = "https://example.com/page"\n',
     ["sources[0].kind: a govkz source takes only these URLs", "/details/ID"]),
])
def test_a_setting_that_cannot_work_is_refused_at_load(
    tmp_path: Path, body: str, words: list[str]
) -> None:
    config = _config(tmp_path, body)
    _refused(monitor("--config", str(config), "init", cwd=tmp_path), *words)
    _refused(monitor("--config", str(config), "sources", cwd=tmp_path), *words)


@pytest.mark.parametrize("kind,url,words", [
    ("govkz", "https://example.com/page", ["--kind: a govkz source takes only", "/details/ID"]),
    ("govkz-list", "https://www.gov.kz/memleket/entities/mfa/press/news/details/1",
     ["--kind: a govkz-list source takes only", "press/news"]),
])
def test_a_govkz_kind_is_refused_for_a_url_its_adapter_cannot_read(
    run: Run, kind: str, url: str, words: list[str]
) -> None:
    _refused(run("add", "--kind", kind, url), *words)
    assert _watched(run) == {}


def test_show_does_not_obey_bidi_overrides_in_page_text(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("Pay \u202e0001\u202c to \u2066account\u2069 now.\n",
                                       encoding="utf-8")
    (tmp_path / "page.toml").write_text('name = "page"\ntitle = "Notice"\nkind = "html"\n'
                                        'text = "page.txt"\nurl = "https://example.com/p"\n')
    config = _config(tmp_path, '[[sources]]\nname = "page"\nurl = "https://example.com/p"\n'
                     'baseline = "page.toml"\n')
    assert monitor("--config", str(config), "init", cwd=tmp_path).code == 0
    for command in (["show", "page"], ["show", "page@1"]):
        shown = monitor("--config", str(config), *command, cwd=tmp_path)
        assert shown.code == 0, shown.err
        assert "Pay" in shown.out and "\ufffd0001\ufffd" in shown.out, shown.out
        assert not any(ch in shown.out for ch in "\u202e\u202c\u2066\u2069")
