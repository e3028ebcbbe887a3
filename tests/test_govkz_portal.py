"""gov.kz as its public clients see it (issue 10, item 12): slug URLs, refusals in every
shape, Astana dates, documents; each through real checks against the replica."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests
from cli_helpers import monitor
from conftest import REPO
from test_replica import client_of

from monitor.errors import FetchFailed
from monitor.fetch import Fetcher
from monitor.replica import GovkzReplica
from monitor.replica.baseline import SLUG
from monitor.sources.base import Capture, SourceSpec
from monitor.sources.govkz import GovkzArticle
from monitor.store import open_store

SEED_NAME = "mfa-2025-12-11-human-rights-penitentiary-en"
CREATED = "2026-07-14T11:58:00.000+05:00"
V1 = "/api/v1/public/_/c/k6"
V2 = "/api/v2/_/c/k6"


def govkz(url: str) -> SourceSpec:
    return SourceSpec(name="article", url=url, kind="govkz")


def capture(url: str, fetcher: Fetcher, adapter: GovkzArticle | None = None) -> Capture:
    result = (adapter or GovkzArticle()).capture(govkz(url), fetcher)
    assert isinstance(result, Capture)
    return result


def _captured_evidence(db_url: str, name: str) -> list[dict[str, object]]:
    store = open_store(db_url)
    try:
        return [e.data["evidence"] for e in store.read_stream(name)
                if e.type == "VersionCaptured"]
    finally:
        store.engine.dispose()


# -- slug URLs -------------------------------------------------------------------------


def test_shipped_baseline_slug_url_resolves_through_the_slug_lookup(
    tmp_path: Path, db_url: str, replica: GovkzReplica
) -> None:
    config = (REPO / "monitor.toml").read_text(encoding="utf-8")
    assert f"/details/{SLUG}?lang=en" in config  # the shipped URL ends in the slug
    (tmp_path / "monitor.toml").write_text(
        config.replace("https://www.gov.kz", replica.base_url), encoding="utf-8")
    shutil.copytree(REPO / "snapshots", tmp_path / "snapshots")
    replica.seed_baseline(article_id=1119829)
    env = {"MONITOR_DATABASE_URL": db_url}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    checked = monitor("check", SEED_NAME, "--format", "json", cwd=tmp_path, env=env)
    assert checked.code == 0, checked.err
    assert "ChangeDetected" not in monitor("events", cwd=tmp_path, env=env).out
    [evidence] = _captured_evidence(db_url, SEED_NAME)
    assert evidence["lookup"] == "slug" and evidence["item_id"] == "1119829"
    assert f"slug=eq:{SLUG}&projects=eq:mfa" in str(evidence["api_url"])


def test_a_slug_that_lists_no_article_is_not_found(replica: GovkzReplica, fetcher: Fetcher) -> None:
    replica.add_article("mfa", 42, title="Visit", paragraphs=["P"], created_date=CREATED,
                        slug="visit")
    url = replica.slug_url("mfa", "visit")
    assert capture(url, fetcher).document.paragraphs == ("P",)
    replica.remove_article(42)
    with pytest.raises(FetchFailed) as failed:
        capture(url, fetcher)
    assert failed.value.kind == "not_found"


def test_a_slug_keeps_finding_its_article_after_a_title_edit(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    replica.add_article("mfa", 43, title="Old title", paragraphs=["P"], created_date=CREATED)
    url = replica.slug_url("mfa", "old-title")
    replica.edit_article(43, "en", title="New title")
    assert capture(url, fetcher).document.title == "New title"


def test_replica_slug_lookup_answers_a_list_of_that_article_only(replica: GovkzReplica) -> None:
    replica.add_article("mfa", 44, title="A b", paragraphs=["P"], created_date=CREATED)
    replica.add_article("mfa", 45, title="C d", paragraphs=["Q"], created_date=CREATED)
    session = client_of(replica)
    session.post(replica.base_url + V1, json={})
    api = replica.base_url + "/api/v1/public/content-manager/news"
    found = session.get(api + "?slug=eq:c-d&projects=eq:mfa",
                        headers={"Accept-Language": "en"}).json()
    assert [item["id"] for item in found] == [45]
    assert session.get(api + "?slug=eq:c-d&projects=eq:edu",
                       headers={"Accept-Language": "en"}).json() == []


# -- refusals and the challenge ----------------------------------------------------------


@pytest.mark.parametrize("status", [400, 403])
@pytest.mark.parametrize("refusal", ["error", "message", "text"])
def test_any_refusal_of_the_news_api_starts_the_challenge(
    refusal: str, status: int, replica: GovkzReplica, fetcher: Fetcher
) -> None:
    replica.refusal, replica.refusal_status = refusal, status
    url = replica.add_article("mfa", 7, title="T", paragraphs=["P"], created_date=CREATED)
    assert capture(url, fetcher).document.paragraphs == ("P",)
    assert replica.requests_seen("POST", V1) == 1


def test_replica_refuses_the_v1_post_and_gets_without_the_page_s_headers(
    replica: GovkzReplica,
) -> None:
    replica.add_article("mfa", 7, title="T", paragraphs=["P"], created_date=CREATED)
    bare = requests.Session()
    assert bare.post(replica.base_url + V1).status_code == 403  # no JSON, no Origin
    client = client_of(replica)
    assert client.post(replica.base_url + V1, json={}).status_code == 200
    item = replica.api_item_url(7)
    client.headers["Accept-Language"] = "en"
    assert client.get(item).status_code == 200
    del client.headers["Referer"]
    assert client.get(item).status_code == 400


def test_v2_answers_the_hash_and_token_headers() -> None:
    with GovkzReplica(challenge="v2") as site:
        pairs = client_of(site).post(site.base_url + V2, json={}).json()
    assert set(pairs) == {"hash", "token"}


@pytest.mark.parametrize("challenge", ["v1", "v2"])
def test_the_challenge_passed_is_recorded_as_evidence(
    challenge: str, store, checker  # type: ignore[no-untyped-def]
) -> None:
    from monitor.catalog import register
    from monitor.config import SourceConfig

    with GovkzReplica(challenge=challenge) as site:
        site.refusal = "text"
        url = site.add_article("mfa", 8, title="T", paragraphs=["P"], created_date=CREATED)
        register(store, SourceConfig(name="doc", url=url, kind="govkz", interval_seconds=60))
        assert checker.check("doc").outcome == "captured"
    [captured] = [e for e in store.read_stream("doc") if e.type == "VersionCaptured"]
    assert captured.data["evidence"]["challenge"] == challenge
    assert captured.data["evidence"]["lookup"] == "id"


def test_a_refusal_that_outlasts_the_challenge_is_a_challenge_failure(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    replica.refusal, replica.refusal_status = "message", 403
    url = replica.add_article("mfa", 9, title="T", paragraphs=["P"], created_date=CREATED)
    replica.refuse_all = True  # a challenge changed in a way the monitor does not know
    with pytest.raises(FetchFailed) as failed:
        capture(url, fetcher)
    assert failed.value.kind == "challenge" and "403" in str(failure := failed.value)
    assert "notAllowed" in str(failure)


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize("created, published", [
    ("2025-12-10T21:30:00Z", "2025-12-11"),  # 02:30 on the 11th in Astana
    ("2025-12-10T21:30:00.000+00:00", "2025-12-11"),
    ("2025-12-10T18:30:00+00:00", "2025-12-10"),  # 23:30 in Astana: still the 10th
    ("2025-12-11T02:30:00.000+05:00", "2025-12-11"),
])
def test_a_release_is_dated_by_the_astana_calendar(
    created: str, published: str, store, checker, replica: GovkzReplica  # type: ignore[no-untyped-def]
) -> None:
    from monitor.catalog import register
    from monitor.config import SourceConfig

    url = replica.add_article("mfa", 12, title="Night release", paragraphs=["P"],
                              created_date=created)
    register(store, SourceConfig(name="night", url=url, kind="govkz", interval_seconds=60))
    assert checker.check("night").outcome == "captured"
    [captured] = [e for e in store.read_stream("night") if e.type == "VersionCaptured"]
    assert captured.data["published"] == published


def test_the_press_list_dates_its_items_by_the_astana_calendar(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    from monitor.sources.govkz_list import GovkzList

    replica.add_article("mfa", 13, title="Night", paragraphs=["P"],
                        created_date="2025-12-10T21:30:00+00:00")
    listed = GovkzList().capture(
        SourceSpec(name="list", url=replica.list_page_url("mfa"), kind="govkz-list"), fetcher)
    assert isinstance(listed, Capture)
    assert [(i.item_id, i.published) for i in listed.items] == [("13", "2025-12-11")]


# -- documents ---------------------------------------------------------------------------


def test_a_document_is_read_from_its_content_with_its_files_recorded(
    store, checker, replica: GovkzReplica  # type: ignore[no-untyped-def]
) -> None:
    from monitor.catalog import register
    from monitor.check import spec_of
    from monitor.config import SourceConfig
    from monitor.diff import Change
    from monitor.sources.base import NotModified, Validators
    from monitor.sources.govkz import GovkzArticle
    from monitor.store.queries import source_by_stream

    url = replica.add_article(
        "mfa", 3001, title="Order No. 12", section="documents", created_date=CREATED,
        paragraphs=["The order takes effect in 10 days.", "Signed by the minister."],
        files=("/uploads/2026/07/14/order-12.pdf", "/uploads/2026/07/14/order-12.docx"))
    assert "/documents/details/3001" in url
    register(store, SourceConfig(name="order", url=url, kind="govkz", interval_seconds=60))
    assert checker.check("order").outcome == "captured"
    # Unchanged while its view counter moves: the key of its title, text and date holds,
    # and answers "not modified" without the body being read (monitor.sources.pagekey).
    assert checker.check("order").outcome == "unchanged"
    row = source_by_stream(store.engine, "order")
    key = checker.page_keys.get(row.stream_id, row.content_hash)
    assert key is not None
    assert isinstance(GovkzArticle().capture(spec_of(row), checker.fetcher,
                                             Validators(page_key=key)), NotModified)
    replica.edit_article(3001, "en", paragraphs=["The order takes effect in 20 days.",
                                                 "Signed by the minister."])
    assert checker.check("order").outcome == "changed"
    first, _ = [e.data for e in store.read_stream("order") if e.type == "VersionCaptured"]
    assert first["evidence"]["text_field"] == "content"
    assert first["evidence"]["files"] == [replica.base_url + "/uploads/2026/07/14/order-12.pdf",
                                          replica.base_url + "/uploads/2026/07/14/order-12.docx"]
    [change] = [Change.from_dict(e.data["change"]) for e in store.read_stream("order")
                if e.type == "ChangeDetected"]
    [hunk] = change.hunks
    assert hunk.new == "The order takes effect in 20 days."


def test_replica_serves_a_document_as_the_portal_does(replica: GovkzReplica) -> None:
    replica.add_article("mfa", 3002, title="Decree", section="documents", paragraphs=["P"],
                        created_date=CREATED, files=("/uploads/decree.pdf",))
    item = requests.get(replica.base_url + "/api/v1/public/content-manager/documents/3002",
                        headers={"Accept-Language": "en"}).json()
    assert "body" not in item and "<p" in item["content"]
    assert item["full_text"] == [{"lang": "en", "document": "/uploads/decree.pdf"}]


# -- other shapes ------------------------------------------------------------------------


def test_a_numbered_list_page_is_a_list_source_read_at_that_page(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    from monitor.catalog import guess_kind
    from monitor.sources.govkz_list import GovkzList

    for day, item_id in ((12, 21), (13, 22), (14, 23)):
        replica.add_article("mfa", item_id, lang="kk", title=f"T{item_id}", paragraphs=["P"],
                            created_date=f"2026-07-{day}T10:00:00+05:00")
    url = f"{replica.base_url}/memleket/entities/mfa/press/news/2?lang=kk"
    assert guess_kind(url) == "govkz-list"
    listed = GovkzList().capture(SourceSpec(name="list", url=url, kind="govkz-list",
                                            options={"size": 1}), fetcher)
    assert isinstance(listed, Capture)
    assert [i.item_id for i in listed.items] == ["22"]  # page 2 of one item each, newest first
    assert listed.items[0].url.endswith("/press/news/details/22?lang=kk")


def test_an_article_url_without_lang_is_watched_in_russian_and_add_says_so(
    tmp_path: Path, db_url: str, replica: GovkzReplica
) -> None:
    url = replica.add_article("mfa", 31, lang="ru", title="Брифинг", paragraphs=["Текст."],
                              created_date=CREATED).split("?")[0]
    env = {"MONITOR_DATABASE_URL": db_url}
    (tmp_path / "monitor.toml").write_text('[fetch]\nmin_delay_per_host = "0s"\n')
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    added = monitor("add", url, "--name", "brief", cwd=tmp_path, env=env)
    assert added.code == 0, added.err
    assert "names no language" in added.out and "watching its ru version" in added.out
    shown = monitor("sources", "--show", "brief", "--format", "json", cwd=tmp_path,
                    env=env).json()
    assert shown["language"] == "ru"
    assert monitor("check", "brief", cwd=tmp_path, env=env).code == 0
    shown = monitor("show", "brief", cwd=tmp_path, env=env)
    assert "Текст." in shown.out, shown.err


@pytest.mark.parametrize("section", ["events", "documents"])
def test_events_and_documents_pages_are_gov_kz_items_read_through_the_api(
    section: str, replica: GovkzReplica, fetcher: Fetcher
) -> None:
    from monitor.catalog import guess_kind

    url = replica.add_article("mfa", 41, title="Forum", paragraphs=["Opens at 10:00."],
                              created_date=CREATED, section=section)
    assert guess_kind(url) == "govkz"
    read = capture(url, fetcher)
    assert read.document.paragraphs == ("Opens at 10:00.",)
    assert f"/content-manager/{section}/41" in str(read.evidence["api_url"])


def test_a_directions_list_spans_ministries_and_links_each_item_to_its_own(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    from monitor.sources.govkz_list import GovkzList

    replica.add_article("mfa", 51, title="Water talks", paragraphs=["P"], directions=(12,),
                        created_date="2026-07-13T10:00:00+05:00")
    replica.add_article("ecology", 52, title="Water law", paragraphs=["P"], directions=(12, 7),
                        created_date="2026-07-14T10:00:00+05:00")
    replica.add_article("mfa", 53, title="Visit", paragraphs=["P"], directions=(7,),
                        created_date="2026-07-15T10:00:00+05:00")
    api = replica.base_url + "/api/v1/public/content-manager/news"
    spec = SourceSpec(name="topic", kind="govkz-list", language="en",
                      url=f"{api}?sort-by=created_date:DESC&directions=eq:12&page=1&size=20")
    listed = GovkzList().capture(spec, fetcher)
    assert isinstance(listed, Capture)
    assert [(i.item_id, i.url.split("/entities/")[1]) for i in listed.items] == [
        ("52", "ecology/press/news/details/52?lang=en"),
        ("51", "mfa/press/news/details/51?lang=en"),
    ]
    page = f"{replica.base_url}/memleket/entities/mfa/press/news?lang=en&directions=12"
    listed = GovkzList().capture(SourceSpec(name="mfa-topic", url=page, kind="govkz-list"),
                                 fetcher)
    assert isinstance(listed, Capture)
    assert [i.item_id for i in listed.items] == ["51"]
