"""Source adapters against the replicas, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from monitor.errors import FetchFailed, UsageError
from monitor.fetch import Fetcher
from monitor.normalize import parse_capture
from monitor.replica import GovkzReplica, NoisySite
from monitor.replica.baseline import TITLE, seed_path
from monitor.sources import KINDS, adapter_for, kinds_help
from monitor.sources.base import Capture, NotModified, SourceSpec
from monitor.sources.blocks import fragment_paragraphs
from monitor.sources.govkz import GovkzArticle
from monitor.sources.govkz_list import GovkzList
from monitor.sources.html import HtmlPage
from monitor.sources.volatile import volatile_selectors

CREATED = "2026-07-14T11:58:00.000+05:00"


@pytest.fixture
def noisy() -> Iterator[NoisySite]:
    with NoisySite(pages=50, seed=7) as site:
        yield site


def govkz(url: str, **fields: object) -> SourceSpec:
    return SourceSpec(name="article", url=url, kind="govkz", **fields)  # type: ignore[arg-type]


def html(url: str, **fields: object) -> SourceSpec:
    return SourceSpec(name="page", url=url, kind="html", **fields)  # type: ignore[arg-type]


def capture(adapter: object, spec: SourceSpec, fetcher: Fetcher) -> Capture:
    assert isinstance(adapter, GovkzArticle | GovkzList | HtmlPage)
    result = adapter.capture(spec, fetcher)
    assert isinstance(result, Capture)
    return result


# -- registry ----------------------------------------------------------------------


def test_kinds_are_registered_by_name_with_help_from_docstrings() -> None:
    assert {"govkz", "govkz-list", "html"} <= set(KINDS)
    assert isinstance(adapter_for("html"), HtmlPage)
    assert adapter_for("govkz") is adapter_for("govkz")
    assert "JavaScript shell" in kinds_help()


def test_unknown_kind_is_a_usage_error_listing_the_known_kinds() -> None:
    with pytest.raises(UsageError, match="govkz, govkz-list, html"):
        adapter_for("rss")


# -- gov.kz article ----------------------------------------------------------------


def test_unchanged_article_is_the_same_document_on_20_loads_despite_noise(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    url = replica.add_article(
        "mfa",
        501,
        lang="ru",
        title="Брифинг",
        paragraphs=["Один — два.", "«Три»."],
        created_date=CREATED,
    )
    adapter = GovkzArticle()
    captures = [capture(adapter, govkz(url), fetcher) for _ in range(20)]
    assert len({c.document.canonical_text() for c in captures}) == 1
    assert len({c.raw for c in captures}) == 20  # the views counter did change
    document = captures[0].document
    assert document.title == "Брифинг"
    assert document.published == "2026-07-14"
    assert document.paragraphs == ("Один — два.", "«Три».")
    assert captures[0].final_url == url


@pytest.mark.parametrize("body_as_document", [False, True])
def test_seed_article_normalizes_to_exactly_the_seed_capture(
    replica: GovkzReplica, fetcher: Fetcher, body_as_document: bool
) -> None:
    replica.body_as_document = body_as_document
    url = replica.seed_baseline(article_id=1119829)
    document = capture(GovkzArticle(), govkz(url), fetcher).document
    seed = parse_capture(seed_path().read_text(encoding="utf-8"))
    assert document.paragraphs == seed.paragraphs
    assert document.published == seed.published == "2025-12-11"
    assert document.title == TITLE


@pytest.mark.parametrize("challenge", ["v1", "v2", None])
def test_each_challenge_version_is_passed(challenge: str | None, fetcher: Fetcher) -> None:
    with GovkzReplica(challenge=challenge) as site:
        url = site.add_article(
            "mfa", 9, lang="en", title="T", paragraphs=["P"], created_date=CREATED
        )
        adapter = GovkzArticle()
        assert capture(adapter, govkz(url), fetcher).document.paragraphs == ("P",)
        assert capture(adapter, govkz(url), fetcher).document.paragraphs == ("P",)
        expected_posts = {"v1": 1, "v2": 2, None: 0}[challenge]  # v2 is found after v1
        assert site.requests_seen("POST") == expected_posts


@pytest.mark.parametrize("challenge", ["v1", "v2"])
def test_expired_challenge_is_renewed(challenge: str, fetcher: Fetcher) -> None:
    with GovkzReplica(challenge=challenge) as site:
        url = site.add_article(
            "mfa", 9, lang="en", title="T", paragraphs=["P"], created_date=CREATED
        )
        adapter = GovkzArticle()
        capture(adapter, govkz(url), fetcher)
        posts = site.requests_seen("POST")
        site.expire_challenge()
        assert capture(adapter, govkz(url), fetcher).document.paragraphs == ("P",)
        assert site.requests_seen("POST") == posts + 1  # the version that worked, first


def test_concurrent_checks_renew_an_expired_challenge_once(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    urls = [
        replica.add_article(
            "mfa", n, lang="en", title=f"T{n}", paragraphs=["P"], created_date=CREATED
        )
        for n in range(1, 7)
    ]
    adapter = GovkzArticle()
    capture(adapter, govkz(urls[0]), fetcher)
    replica.expire_challenge()
    errors: list[BaseException] = []

    def check(url: str) -> None:
        try:
            capture(adapter, govkz(url), fetcher)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=check, args=(u,)) for u in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert replica.requests_seen("POST") == 2


def test_failing_challenge_endpoint_is_a_clear_challenge_failure(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    url = replica.add_article(
        "mfa", 9, lang="en", title="T", paragraphs=["P"], created_date=CREATED
    )
    replica.challenge_broken = True
    with pytest.raises(FetchFailed) as failure:
        GovkzArticle().capture(govkz(url), fetcher)
    assert failure.value.kind == "challenge"
    assert "challenge" in str(failure.value) and "500" in str(failure.value)


@pytest.mark.parametrize("status", [200, 403])
def test_block_page_instead_of_json_is_blocked(
    replica: GovkzReplica, fetcher: Fetcher, status: int
) -> None:
    url = replica.add_article(
        "mfa", 9, lang="en", title="T", paragraphs=["P"], created_date=CREATED
    )
    replica.block, replica.block_status = True, status
    with pytest.raises(FetchFailed) as failure:
        GovkzArticle().capture(govkz(url), fetcher)
    assert failure.value.kind == "blocked"
    assert failure.value.status == status


def test_removed_article_is_not_found(replica: GovkzReplica, fetcher: Fetcher) -> None:
    url = replica.add_article(
        "mfa", 9, lang="en", title="T", paragraphs=["P"], created_date=CREATED
    )
    adapter = GovkzArticle()
    capture(adapter, govkz(url), fetcher)
    replica.remove_article(9)
    with pytest.raises(FetchFailed) as failure:
        adapter.capture(govkz(url), fetcher)
    assert failure.value.kind == "not_found"


def test_configured_language_overrides_the_urls(replica: GovkzReplica, fetcher: Fetcher) -> None:
    url = replica.add_article(
        "mfa", 9, lang="en", title="Briefing", paragraphs=["P"], created_date=CREATED
    )
    replica.add_article(
        "mfa", 9, lang="kk", title="Брифинг", paragraphs=["Б"], created_date=CREATED
    )
    got = capture(GovkzArticle(), govkz(url, language="kk"), fetcher)
    assert got.document.title == "Брифинг"
    assert got.final_url.endswith("/details/9?lang=kk")


def test_an_edited_digit_changes_the_document(replica: GovkzReplica, fetcher: Fetcher) -> None:
    url = replica.add_article(
        "mfa", 9, lang="en", title="T", paragraphs=["Budget: 1 500 000."], created_date=CREATED
    )
    adapter = GovkzArticle()
    before = capture(adapter, govkz(url), fetcher).document
    replica.edit_article(9, "en", paragraphs=["Budget: 1 600 000."])
    after = capture(adapter, govkz(url), fetcher).document
    assert before.content_hash != after.content_hash


def test_body_blocks_become_paragraphs_and_images_are_not_text() -> None:
    body = (
        "<html><head><style>p{}</style></head><body>"
        "<p>One&nbsp;&ndash; <b>bold</b> &laquo;q&raquo;</p><div>Two<br>Three</div>"
        "<ul><li>Four</li><li>Five</li></ul><h3>Six</h3><blockquote>Seven</blockquote>"
        '<figure><img src="x.jpg"><figcaption>Photo: press service</figcaption></figure>'
        "<script>var views = 5;</script><p>&nbsp;</p><!-- comment --></body></html>"
    )
    assert fragment_paragraphs(body) == [
        "One \u2013 bold «q»",
        "Two",
        "Three",
        "Four",
        "Five",
        "Six",
        "Seven",
    ]


# -- gov.kz list -------------------------------------------------------------------


def test_list_source_lists_the_ministrys_articles(replica: GovkzReplica, fetcher: Fetcher) -> None:
    for n, day in ((11, "10"), (12, "12"), (13, "11")):
        replica.add_article(
            "mfa",
            n,
            lang="en",
            title=f"News {n}",
            paragraphs=["P"],
            created_date=f"2025-12-{day}T09:00:00.000+05:00",
        )
    replica.add_article(
        "edu", 14, lang="en", title="Other ministry", paragraphs=["P"], created_date=CREATED
    )
    spec = SourceSpec(name="mfa", url=replica.list_page_url("mfa", "en"), kind="govkz-list")
    got = capture(GovkzList(), spec, fetcher)
    assert [item.item_id for item in got.items] == ["12", "13", "11"]
    assert got.items[0].url == replica.page_url("mfa", 12, "en")
    assert got.items[0].title == "News 12" and got.items[0].published == "2025-12-12"
    assert got.document.paragraphs[0] == "2025-12-12 News 12 (12)"


def test_list_source_accepts_the_api_list_url(replica: GovkzReplica, fetcher: Fetcher) -> None:
    replica.add_article(
        "mfa", 11, lang="ru", title="Новость", paragraphs=["P"], created_date=CREATED
    )
    spec = SourceSpec(name="mfa", url=replica.api_list_url("mfa"), kind="govkz-list", language="ru")
    got = capture(GovkzList(), spec, fetcher)
    assert [(i.item_id, i.title) for i in got.items] == [("11", "Новость")]


# -- html --------------------------------------------------------------------------


@pytest.mark.parametrize("selector", [None, "article"])
def test_learned_volatile_selectors_make_20_loads_identical(
    noisy: NoisySite, fetcher: Fetcher, selector: str | None
) -> None:
    adapter = HtmlPage()
    spec = html(noisy.page_url(3), selector=selector, options={"learn_delay": 0.2})
    volatile = adapter.learn_volatile(spec, fetcher)
    assert any(".views" in s for s in volatile) and any(".clock" in s for s in volatile)
    learned = html(noisy.page_url(3), selector=selector, volatile=volatile)
    texts = {capture(adapter, learned, fetcher).document.canonical_text() for _ in range(20)}
    assert len(texts) == 1
    assert "Views" not in texts.pop()


def test_an_edited_paragraph_changes_the_html_document(noisy: NoisySite, fetcher: Fetcher) -> None:
    adapter = HtmlPage()
    spec = html(noisy.page_url(5), options={"learn_delay": 0.2})
    learned = html(noisy.page_url(5), volatile=adapter.learn_volatile(spec, fetcher))
    before = capture(adapter, learned, fetcher).document
    page = noisy.page(5)
    assert page is not None
    edited = list(page.paragraphs)
    edited[1] = edited[1].replace(" ", " 7 ", 1)
    noisy.edit_page(5, paragraphs=edited)
    after = capture(adapter, learned, fetcher).document
    assert set(after.paragraphs) - set(before.paragraphs) == {edited[1]}
    assert after.title == before.title == page.title


def test_learning_ignores_long_text_that_changed_between_loads() -> None:
    long_a, long_b = "Budget " + "x " * 50 + "5.", "Budget " + "x " * 50 + "6."
    page = "<html><body><article><p>{}</p><span class='views'>Views: {}</span></article>"
    assert volatile_selectors(page.format(long_a, 10), page.format(long_b, 11)) == (
        "html > body > article:nth-of-type(1) > span.views",
    )


@pytest.mark.parametrize("ignore", [".views", r"regex:Views: \d+"])
def test_ignore_masks_work_without_learning(
    noisy: NoisySite, fetcher: Fetcher, ignore: str
) -> None:
    adapter = HtmlPage()
    spec = html(noisy.page_url(4), selector="article", ignore=(ignore, ".info time"))
    texts = {capture(adapter, spec, fetcher).document.canonical_text() for _ in range(5)}
    assert len(texts) == 1
    unmasked = capture(adapter, html(noisy.page_url(4), selector="article"), fetcher)
    assert "Views:" in unmasked.document.canonical_text()


@pytest.mark.parametrize("charset_in_header", [True, False])
def test_windows_1251_page_decodes(fetcher: Fetcher, charset_in_header: bool) -> None:
    with NoisySite(charset_in_header=charset_in_header) as site:
        paragraphs = [
            "Министерство продлило приём заявок до 15 июля.",
            "Подробности — на сайте ведомства. Справки по телефону 1414.",
        ]
        site.set_page(1, "Приём заявок продлён", paragraphs, encoding="windows-1251")
        got = capture(
            HtmlPage(), html(site.page_url(1), selector="article > p:not(.info)"), fetcher
        )
    assert got.document.title == "Приём заявок продлён"
    assert got.document.paragraphs == tuple(paragraphs)


def test_unchanged_page_with_validators_is_not_modified(fetcher: Fetcher) -> None:
    with NoisySite(etags=True) as site:
        adapter = HtmlPage()
        first = capture(adapter, html(site.page_url(1)), fetcher)
        assert first.validators.etag
        assert isinstance(
            adapter.capture(html(site.page_url(1)), fetcher, first.validators), NotModified
        )
        site.edit_page(1, title="Changed")
        assert isinstance(
            adapter.capture(html(site.page_url(1)), fetcher, first.validators), Capture
        )


def test_selector_that_matches_nothing_is_a_parse_failure(
    noisy: NoisySite, fetcher: Fetcher
) -> None:
    with pytest.raises(FetchFailed) as failure:
        HtmlPage().capture(html(noisy.page_url(1), selector="#missing"), fetcher)
    assert failure.value.kind == "parse"


def test_govkz_javascript_shell_has_no_content_for_the_html_adapter(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    url = replica.add_article(
        "mfa", 9, lang="en", title="T", paragraphs=["P"], created_date=CREATED
    )
    with pytest.raises(FetchFailed) as failure:
        HtmlPage().capture(html(url), fetcher)
    assert failure.value.kind == "empty"


def test_prerendered_govkz_page_is_stable_with_learned_selectors(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    replica.prerendered = True
    url = replica.seed_baseline()
    adapter = HtmlPage()
    volatile = adapter.learn_volatile(html(url, options={"learn_delay": 0.2}), fetcher)
    spec = html(url, selector=".news-article", volatile=volatile)
    texts = {capture(adapter, spec, fetcher).document.canonical_text() for _ in range(10)}
    assert len(texts) == 1
    document = capture(adapter, spec, fetcher).document
    assert document.published == "2025-12-11"
    seed = parse_capture(seed_path().read_text(encoding="utf-8"))
    assert set(seed.paragraphs) <= set(document.paragraphs)
