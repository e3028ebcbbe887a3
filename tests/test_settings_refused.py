"""A setting that cannot work is refused when it is given (exit 2, one line naming it),
never accepted to fail every check; and no password ever reaches the log."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Result, monitor
from http_faults import FaultServer, Reply

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.events import SourceRegistered
from monitor.store import open_store

Run = Callable[..., Result]
ARTICLE = ("<html><head><title>Notice</title></head><body><article><h1>Notice</h1>"
           "<p>The commission met on 4 May and approved 12 decisions.</p></article></body></html>")




def _events(db_url: str) -> int:
    store = open_store(db_url)
    try:
        return len(store.read_all())
    finally:
        store.engine.dispose()


def _refused(result: Result, *words: str) -> None:
    assert result.code == 2, result.out
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err, result.err


@pytest.mark.parametrize("options,words", [
    (["--selector", "div["], ["--selector: CSS selector 'div[' is not valid"]),
    (["--selector", "article @class"], ["--selector:", "' @attribute' is for ignore entries"]),
    (["--ignore", "regex:("], ["--ignore: ignore pattern '(' is not a regex"]),
    (["--ignore", "regex:a{99999999999}"], ["--ignore: ignore pattern 'a{99999999999}' is "
                                            "not a regex"]),
    (["--ignore", "regex:" + "(" * 2000 + ")" * 2000], ["--ignore: ignore pattern '(((("]),
    (["--ignore", ".ad", "--ignore", "p:nth-child(x)"], ["--ignore: CSS selector 'p:nth"]),
    (["--ignore", "div[ @class"], ["--ignore: CSS selector 'div['"]),
    (["--interval", "99999999999d"], ["--interval: '99999999999d' is too long (at most 366d)"]),
    (["--interval", "367d"], ["--interval:", "at most 366d"]),
    (["--interval", "0.5s"], ["--interval:", "at least 1s"]),
    (["--interval", "nan"], ["--interval: 'nan' is not a duration"]),
    (["--kind", "govkz", "--auth-env", "PAGE_AUTH"], ["--auth-env: a govkz source sends no "
                                                      "credentials (only html sources do)"]),
    (["--auth-env", "PAGE-AUTH"], ["--auth-env: 'PAGE-AUTH' is not an environment variable"]),
])
def test_add_refuses_a_setting_that_cannot_work_and_records_nothing(
    run: Run, db_url: str, options: list[str], words: list[str]
) -> None:
    before = _events(db_url)
    _refused(run("add", "https://example.com/page", *options), *words)
    assert _events(db_url) == before


def test_add_takes_every_kind_of_mask_that_works(run: Run) -> None:
    result = run("add", "--no-probe", "https://example.com/page", "--selector", "main article",
                 "--ignore", ".ad", "--ignore", "link @href", "--ignore", r"regex:\d+ views",
                 "--interval", "366d", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["added"] == ["example-com-page"]


def test_a_url_with_a_password_is_refused_and_nothing_is_logged(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    before = _events(db_url)
    result = run("add", "https://user:s3cret-pw@example.com/page")
    _refused(result, "'https://…@example.com/page'", "must not carry a user name or password",
             "auth_env", "--auth-env VAR")
    assert "s3cret-pw" not in result.err and "user" not in result.err.split("'")[1]
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.com/fine\nhttps://token@example.com/feed\n")
    _refused(run("add", "--from-file", str(listing)), "https://…@example.com/feed")
    assert _events(db_url) == before
    assert run("sources", "--format", "json").json() == []
    at_in_path = run("add", "--no-probe", "https://example.com/@someone/posts?from=a@b.example")
    assert at_in_path.code == 0, at_in_path.err  # an '@' after the host is no password


def test_a_configured_url_with_a_password_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[[sources]]\nname = "intranet"\nurl = "https://me:pw@intranet.example/x"\n')
    result = monitor("--config", str(config), "init", cwd=tmp_path)
    _refused(result, "sources[0].url: 'https://…@intranet.example/x'")
    assert ":pw" not in result.err


def _config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "monitor.toml"
    config.write_text('[database]\nurl = "sqlite:///var/monitor.db"\n' + body)
    return config


SOURCE = '[[sources]]\nname = "page"\nurl = "https://example.com/page"\n'
WEBHOOK = '[[alerts]]\nname = "hook"\nkind = "webhook"\nurl = "https://hooks.example/x"\n' \
          'secret_env = "HOOK_SECRET"\n'
EMAIL = '[[alerts]]\nname = "desk"\nkind = "email"\nhost = "smtp.example"\n' \
        'from = "monitor@example.org"\n'


@pytest.mark.parametrize("body,words", [
    (SOURCE + 'selector = "div["\n', ["sources[0].selector: CSS selector 'div[' is not valid"]),
    (SOURCE + 'ignore = ["regex:(?P<x"]\n', ["sources[0].ignore: ignore pattern"]),
    (SOURCE + 'interval = "99999999999d"\n', ["sources[0].interval:", "at most 366d"]),
    (SOURCE + 'auth_env = "PAGE AUTH"\n', ["sources[0].auth_env:", "environment variable"]),
    ('[defaults]\ninterval = "400d"\n', ["defaults.interval:", "at most 366d"]),
    ('[defaults]\nrepeat_failures_every = inf\n', ["defaults.repeat_failures_every:",
                                                    "too long"]),
    ('[defaults]\ndispatch_every = "0s"\n', ["defaults.dispatch_every: must be longer than 0s"]),
    ('[fetch]\ntimeout = "0s"\n', ["fetch.timeout: must be longer than 0s"]),
    ('[fetch]\nconnect_timeout = "1000d"\n', ["fetch.connect_timeout:", "too long"]),
    (WEBHOOK.replace('"webhook"', '"pager"'), ["alerts[0].kind: unknown kind 'pager'"]),
    (EMAIL + 'to = "desk@example.org"\nport = 70000\n',
     ["alerts[0].port: must be a whole number >= 1 and <= 65535"]),
    (EMAIL, ["alerts[0].to: is required"]),
    (WEBHOOK + 'timeout = "forever"\n', ["alerts[0].timeout: 'forever' is not a duration"]),
    ('[cluster]\nmetrics_port = -1\n', ["cluster.metrics_port: must be a TCP port number"]),
])
def test_a_bad_setting_in_the_config_is_refused_at_init_and_load(
    tmp_path: Path, body: str, words: list[str]
) -> None:
    config = _config(tmp_path, body)
    _refused(monitor("--config", str(config), "init", cwd=tmp_path), str(config), *words)
    assert not (tmp_path / "var" / "monitor.db").exists()
    _refused(monitor("--config", str(config), "sources", cwd=tmp_path), *words)


def test_a_good_config_with_channels_and_masks_loads(tmp_path: Path) -> None:
    config = _config(tmp_path, SOURCE + 'selector = "article"\nignore = [".ad", "regex:\\\\d+"]\n'
                     'auth_env = "PAGE_AUTH"\ninterval = "366d"\n'
                     + WEBHOOK + EMAIL + 'to = ["desk@example.org"]\nport = 2525\n')
    result = monitor("--config", str(config), "init", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "1 newly registered" in result.out


def test_stored_settings_that_cannot_work_show_in_sources(run: Run, store) -> None:  # type: ignore[no-untyped-def]
    # As an old record would have it: written before selectors were checked.
    store.append("old", 0, [SourceRegistered(name="old", url="https://example.com/old",
                                             kind="html", interval_seconds=3600,
                                             selector="div[")])
    store.append("rare", 0, [SourceRegistered(name="rare", url="https://example.com/rare",
                                              kind="html", interval_seconds=2**31 - 1)])
    listed = run("sources")
    assert listed.code == 0, listed.err
    assert "cannot be checked: selector: CSS selector 'div[' is not valid" in listed.out
    assert "cannot be checked: interval: 2147483647 is too long (at most 366d)" in listed.out
    rows = run("sources", "--format", "json").json()
    assert rows[0]["settings_problem"].startswith("selector: CSS selector 'div['")


def _basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


def test_a_page_behind_basic_auth_is_read_with_the_credentials_auth_env_names(
    server: FaultServer, store, checker, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultServer() as elsewhere:
        elsewhere.route("/copy", Reply.page(ARTICLE))
        server.route("/page", Reply.page(ARTICLE))
        # Another host name for the same machine: a redirect there must not carry them.
        server.route("/moved", Reply.redirect(f"http://localhost:{elsewhere.port}/copy"))
        for name, path in (("page", "/page"), ("moved", "/moved")):
            register(store, SourceConfig(name=name, url=server.url(path), kind="html",
                                         interval_seconds=60, selector="article",
                                         auth_env="PAGE_AUTH"))
        monkeypatch.delenv("PAGE_AUTH", raising=False)
        unset = checker.check("page")
        assert unset.outcome == "error"
        assert "environment variable PAGE_AUTH (its auth_env) is not set" in unset.detail
        monkeypatch.setenv("PAGE_AUTH", "reader:pa:ss wörd")
        assert checker.check("page").outcome == "captured"
        assert checker.check("moved").outcome == "captured"
        assert server.hits("/page")[-1].header("authorization") == _basic("reader:pa:ss wörd")
        assert server.hits("/moved")[-1].header("authorization") == _basic("reader:pa:ss wörd")
        assert elsewhere.hits("/copy")[-1].header("authorization") is None
    logged = " ".join(str(e.data) for e in store.read_all())
    assert "pa:ss" not in logged and "PAGE_AUTH" in logged
