"""Tags on sources: given in monitor.toml or with `monitor add --tag`, recorded in the
source's events like every other setting, kept in the projection's options (so
`monitor rebuild` brings them back), shown by `monitor sources` and on the board."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from cli_helpers import monitor
from web_helpers import serve

from monitor.catalog import register, source_name
from monitor.config import SourceConfig, load_config
from monitor.errors import ConfigError, UsageError
from monitor.events import SourceRegistered
from monitor.store import open_store
from monitor.store.queries import get_source
from monitor.tags import parse_tags, tag_problem, tags_of

CONFIG = """
[[sources]]
name = "mfa-news"
url = "http://127.0.0.1:9/news"
tags = [{tags}]

[[sources]]
name = "courts"
url = "http://127.0.0.1:9/courts"
"""


def _write(workdir: Path, tags: str) -> None:
    (workdir / "monitor.toml").write_text(CONFIG.format(tags=tags), encoding="utf-8")


def test_a_tag_is_a_short_lowercase_slug_in_any_alphabet() -> None:
    for good in ("mfa", "human-rights", "права-человека", "2025", "ә"):
        assert tag_problem(good) is None, good
    for bad in ("", "Mfa", "human rights", "-mfa", "mfa-", "a--b", "mfa/x", "x" * 33, 7,
                "tab\there"):
        assert tag_problem(bad) is not None, bad
    assert "write it 'mfa'" in (tag_problem("MFA") or "")
    assert parse_tags(["mfa", "court", "mfa"]) == ("court", "mfa")
    with pytest.raises(ValueError, match="at most 20"):
        parse_tags([f"t{n}" for n in range(21)])


def test_bad_tags_in_the_config_are_one_line_errors(tmp_path: Path) -> None:
    for tags, said in (('"Bad Tag"', "'Bad Tag' is not a tag"),
                       ('"mfa", 3', "3 is not a tag")):
        _write(tmp_path, tags)
        with pytest.raises(ConfigError) as caught:
            load_config(str(tmp_path / "monitor.toml"))
        message = str(caught.value)
        assert "sources[0].tags" in message and said in message and "\n" not in message
    (tmp_path / "monitor.toml").write_text(
        '[[sources]]\nname = "a"\nurl = "http://127.0.0.1:9/a"\ntags = "mfa"\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.tags: must be a list of tags"):
        load_config(str(tmp_path / "monitor.toml"))


def test_tags_from_config_and_add_reach_sources_and_the_board_and_survive_rebuild(
        db_url: str, tmp_path: Path) -> None:
    env = {"MONITOR_DATABASE_URL": db_url}
    _write(tmp_path, '"mfa", "human-rights", "mfa"')
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    added = monitor("add", "--no-probe", "http://127.0.0.1:9/verdicts", "--name", "verdicts",
                    "--tag", "court", "--tag", "права", cwd=tmp_path, env=env)
    assert added.code == 0, added.err
    listed = {s["name"]: s["tags"] for s in
              monitor("sources", "--format", "json", cwd=tmp_path, env=env).json()}
    assert listed == {"mfa-news": ["human-rights", "mfa"], "courts": [],
                      "verdicts": ["court", "права"]}
    text = monitor("sources", cwd=tmp_path, env=env).out
    assert "tags: human-rights, mfa" in text and "tags: court, права" in text

    _write(tmp_path, '"mfa"')  # a changed setting: recorded, like any other
    synced = monitor("init", cwd=tmp_path, env=env)
    assert "1 reconfigured" in synced.out
    store = open_store(db_url)
    last = store.read_stream("mfa-news")[-1]
    assert last.type == "SourceReconfigured" and last.data["changes"]["options"]["tags"] == ["mfa"]

    with serve(store) as served:
        viewer = served.user("vera", "viewer")

        def board(query: str) -> list[str]:
            page = viewer.get("/" + query)
            assert page.status_code == 200
            return sorted(set(_names(page.text)))

        assert board("?tag=mfa") == ["mfa-news"]
        assert board("?tag=court") == board("?tag=%D0%BF%D1%80%D0%B0%D0%B2%D0%B0") == ["verdicts"]
        assert board("?tag=human-rights") == []
        # Tags named again for a watched source become its tags.
        again = monitor("add", "http://127.0.0.1:9/verdicts", "--tag", "court", cwd=tmp_path,
                        env=env)
        assert "already watched as verdicts (tags)" in again.out
        assert board("?tag=%D0%BF%D1%80%D0%B0%D0%B2%D0%B0") == []
    before = {s["name"]: s["tags"] for s in
              monitor("sources", "--format", "json", cwd=tmp_path, env=env).json()}
    assert monitor("rebuild", cwd=tmp_path, env=env).code == 0
    after = {s["name"]: s["tags"] for s in
             monitor("sources", "--format", "json", cwd=tmp_path, env=env).json()}
    assert after == before == {"mfa-news": ["mfa"], "courts": [], "verdicts": ["court"]}
    with serve(store) as served:
        page = served.client("vera").get("/?tag=court")
        assert _names(page.text) == ["verdicts"]
    store.engine.dispose()


def test_a_bad_tag_on_the_command_line_is_refused_before_anything_is_written(
        tmp_path: Path) -> None:
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    refused = monitor("add", "http://127.0.0.1:9/x", "--tag", "ok", "--tag", "Not OK",
                      cwd=tmp_path, env=env)
    assert refused.code != 0 and "--tag: 'Not OK' is not a tag" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert monitor("sources", "--format", "json", cwd=tmp_path, env=env).json() == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_source_registered_before_tags_existed_has_none_and_is_not_reconfigured(
        store) -> None:  # type: ignore[no-untyped-def]
    # What an older monitor recorded: no "tags" in the options at all.
    store.append("old", 0, [SourceRegistered(name="old", url="http://127.0.0.1:9/old",
                                             kind="html", interval_seconds=600,
                                             options={"auth_env": "OLD_AUTH"})])
    row = get_source(store.engine, "old")
    assert tags_of(row.options) == ()
    spec = SourceConfig(name="old", url="http://127.0.0.1:9/old", kind="html",
                        interval_seconds=600, auth_env="OLD_AUTH")
    assert register(store, spec).reconfigured == ()
    assert store.stream_version("old") == 1
    tagged = register(store, SourceConfig(**{**spec.__dict__, "tags": ("mfa",)}))
    assert tagged.reconfigured == ("tags",)
    assert get_source(store.engine, "old").options == {"auth_env": "OLD_AUTH", "tags": ["mfa"]}
    untagged = register(store, spec)
    assert untagged.reconfigured == ("tags",)
    assert get_source(store.engine, "old").options == {"auth_env": "OLD_AUTH"}
    with pytest.raises(UsageError, match="tags: 'X' is not a tag"):
        register(store, SourceConfig(name="new", url="http://127.0.0.1:9/new", kind="html",
                                     interval_seconds=600, tags=("X",)))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_article_followed_from_a_list_is_filed_under_the_lists_tags(
        store, replica, checker) -> None:  # type: ignore[no-untyped-def]
    created = "2026-03-0{}T10:00:00.000+05:00"
    replica.add_article("mfa", 41, title="Release 1", paragraphs=["Text."],
                        created_date=created.format(1))
    url = replica.list_page_url("mfa")
    name = source_name(store, url, "govkz-list")
    register(store, SourceConfig(name=name, url=url, kind="govkz-list", interval_seconds=60,
                                 follow=True, tags=("human-rights", "mfa")))
    assert checker.check(name).outcome == "captured"
    replica.add_article("mfa", 42, title="Release 2", paragraphs=["New."],
                        created_date=created.format(2))
    assert checker.check(name).outcome == "published"
    [published] = [e.data for e in store.read_stream(name) if e.type == "DocumentPublished"]
    followed = get_source(store.engine, published["registered_as"])
    assert tags_of(followed.options) == ("human-rights", "mfa")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_api_adds_tags_and_shows_them(store) -> None:  # type: ignore[no-untyped-def]
    with serve(store) as served:
        editor = {"Authorization": f"Bearer {served.token('ana', 'editor')}"}
        api = served.url + "/api/v1/sources"
        refused = requests.post(api, headers=editor, timeout=10,
                                json={"url": "http://127.0.0.1:9/a", "tags": ["Mfa"]})
        assert refused.status_code == 400
        assert refused.json()["detail"].startswith("tag: 'Mfa' is not a tag (write it 'mfa')")
        assert store.last_position() == 0
        added = requests.post(api, headers=editor, timeout=10, json={
            "url": "http://127.0.0.1:9/a", "name": "a", "tags": ["mfa", "court", "mfa"]})
        assert added.status_code == 201, added.text
        assert added.json()["source"]["tags"] == ["court", "mfa"]
        listed = requests.get(api, headers=editor, timeout=10).json()["items"]
        assert [(s["name"], s["tags"]) for s in listed] == [("a", ["court", "mfa"])]


def _names(page: str) -> list[str]:
    import re

    return re.findall(r'<tr data-source="([^"]+)"', page)
