"""Page keys: an unchanged page is recognised before its text is extracted, and no
edit can slip past one. Real pages from the noisy replica over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from lxml import etree

from monitor.fetch import Fetcher
from monitor.replica import NoisySite
from monitor.sources import masking
from monitor.sources.base import Capture, NotModified, SourceSpec, Validators
from monitor.sources.blocks import parse_html
from monitor.sources.html import HtmlPage
from monitor.sources.pagekey import page_key
from monitor.sources.volatile import volatile_selectors


@pytest.fixture
def noisy() -> Iterator[NoisySite]:
    with NoisySite(pages=400, seed=3) as site:
        yield site


def _learned(site: NoisySite, n: int, fetcher: Fetcher) -> SourceSpec:
    spec = SourceSpec(name=f"p{n}", url=site.page_url(n), kind="html",
                      options={"learn_delay": 0.2})
    return replace(spec, volatile=HtmlPage().learn_volatile(spec, fetcher), options={})


def _masked(html: str, spec: SourceSpec) -> str:
    root = parse_html(html)
    masking.remove_masked(root, masking.css_masks(spec.ignore, spec.volatile))
    return etree.tostring(root.getroottree(), method="html", encoding="unicode")


def test_learning_masks_tokens_asset_versions_and_rotations_so_loads_are_identical(
    noisy: NoisySite, fetcher: Fetcher
) -> None:
    spec = _learned(noisy, 7, fetcher)
    assert "html > head > meta:nth-of-type(4) @content" in spec.volatile  # the CSRF token
    assert "html > head > link:nth-of-type(1) @href" in spec.volatile  # site.css?v=...
    assert "html > body > script:nth-of-type(1)" in spec.volatile  # window.csrf = "..."
    loads = {_masked(fetcher.get(spec.url).text(), spec) for _ in range(15)}
    assert len(loads) == 1
    page = loads.pop()
    assert 'name="csrf-token"' in page and "content=" not in page.split('csrf-token"')[1][:5]
    assert "window.csrf" not in page and "site.css" not in page


def test_an_attribute_mask_keeps_the_element_and_its_text() -> None:
    root = parse_html('<html><body><p>Read <a href="/x?s=1" title="t">the decree</a>.</p>'
                      "</body></html>")
    masking.remove_masked(root, (masking.attribute_mask("p > a", "href"),))
    assert etree.tostring(root, encoding="unicode") == (
        '<html><body><p>Read <a title="t">the decree</a>.</p></body></html>')


_HEADLINES = [f"The ministry {verb} the {thing} programme for the coming years, with new rules"
              for verb, thing in [("approved", "housing"), ("reviewed", "water"),
                                  ("extended", "transport"), ("presented", "health"),
                                  ("announced", "energy"), ("discussed", "school"),
                                  ("launched", "digital")]]
_LIST_PAGE = "<html><body><aside><ul>{}</ul></aside><p>Body.</p></body></html>"


def _list_page(items: list[str]) -> str:
    return _LIST_PAGE.format("".join(f"<li><a>{t}</a></li>" for t in items))


def test_a_rotated_list_of_long_headlines_is_learned_but_one_edited_item_is_not() -> None:
    items = _HEADLINES
    group = "html > body > aside:nth-of-type(1) > ul:nth-of-type(1) > li"
    rotated = volatile_selectors(_list_page(items[:3]), _list_page(items[3:6]),
                                 _list_page([items[6], items[0], items[4]]))
    assert rotated == (group,)
    edited = [items[0], items[1] + " (corrected)", items[2]]
    assert volatile_selectors(_list_page(items[:3]), _list_page(edited)) == ()


def test_a_list_is_not_masked_for_news_counters_or_a_change_that_does_not_recur() -> None:
    items = _HEADLINES
    # One item published at the top while learning: the list shifted once.
    shifted = volatile_selectors(_list_page(items[:4]), _list_page([items[6], *items[:3]]),
                                 _list_page([items[6], *items[:3]]))
    assert shifted == ()
    # Every item replaced once, then stable: an edit of the whole list, not a rotation.
    once = volatile_selectors(_list_page(items[:3]), _list_page(items[3:6]),
                              _list_page(items[3:6]))
    assert once == ()
    # The same items with view counters in them: only the counters change.
    counted = [_list_page([f"{t} <span>Views: {n + k}</span>" for k, t in enumerate(items[:3])])
               for n in (10, 20, 30)]
    learned = volatile_selectors(*counted)
    assert learned and all(m.endswith("> span") or "> span:" in m for m in learned)


def test_attributes_a_mask_cannot_name_and_linked_data_are_never_masked() -> None:
    page = ('<html><head><script type="application/ld+json">{{"datePublished": "2026-01-0{}"}}'
            '</script></head><body><button @click="open({})">Open</button><p>Text.</p>'
            "</body></html>")
    assert volatile_selectors(page.format(1, 1), page.format(2, 2)) == ()


def test_the_key_changes_with_any_edit_and_with_the_sources_masks(
    noisy: NoisySite, fetcher: Fetcher
) -> None:
    spec = _learned(noisy, 9, fetcher)

    def key(s: SourceSpec = spec) -> str:
        answer = fetcher.get(s.url)
        root = parse_html(answer.text())
        masking.remove_masked(root, masking.css_masks(s.ignore, s.volatile))
        return page_key(s, answer.url, root)

    before = key()
    assert {key() for _ in range(5)} == {before}
    assert key(replace(spec, ignore=("regex:Budget",))) != before
    assert key(replace(spec, selector="article")) != before
    page = noisy.page(9)
    assert page is not None
    noisy.edit_page(9, paragraphs=[*page.paragraphs[:-1], page.paragraphs[-1] + " "])
    assert key() != before  # even a space the extraction would fold away


def test_the_adapter_answers_not_modified_for_the_key_of_the_current_text_only(
    noisy: NoisySite, fetcher: Fetcher
) -> None:
    adapter = HtmlPage()
    spec = _learned(noisy, 11, fetcher)
    first = adapter.capture(spec, fetcher)
    assert isinstance(first, Capture) and first.validators.page_key
    again = adapter.capture(spec, fetcher, first.validators)
    assert isinstance(again, NotModified)
    page = noisy.page(11)
    assert page is not None
    noisy.edit_page(11, paragraphs=[page.paragraphs[0].replace(" ", " 7 ", 1),
                                    *page.paragraphs[1:]])
    edited = adapter.capture(spec, fetcher, first.validators)
    assert isinstance(edited, Capture)
    assert edited.document.content_hash != first.document.content_hash
    # A key kept beside the recorded one (another variant of the page's noise) is as good.
    assert edited.validators.page_key
    beside = Validators(page_key="0" * 64, other_keys=frozenset({edited.validators.page_key}))
    assert isinstance(adapter.capture(spec, fetcher, beside), NotModified)


# -- in a check: the extraction is skipped, the store is not touched ---------------


def test_unchanged_checks_skip_the_extraction_and_an_edit_still_records_a_change(
    store, db_url: str, noisy: NoisySite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import fast_config
    from sqlalchemy import delete, event, func, select

    from monitor.catalog import register
    from monitor.config import SourceConfig
    from monitor.runner import build_checker
    from monitor.sources import html as html_module
    from monitor.store.schema import check_ledger, events, page_keys

    extracted: list[str] = []
    real = html_module._main_text
    monkeypatch.setattr(html_module, "_main_text",
                        lambda root, url: extracted.append(url) or real(root, url))
    register(store, SourceConfig(name="page", url=noisy.page_url(5), kind="html",
                                 interval_seconds=60))
    checker = build_checker(fast_config(db_url), store, learn_delay=0.2)
    try:
        assert checker.check("page").outcome == "captured"
        assert len(extracted) == 1

        def logged() -> int:
            with store.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

        before = logged()
        assert {checker.check("page").outcome for _ in range(10)} == {"unchanged"}
        assert len(extracted) == 1 and logged() == before

        # Each check takes the write lock once: its ledger row, its page key when that
        # is new and its events (a change) go in one transaction (issue 13).
        writes: list[int] = []
        event.listen(store.engine, "begin", lambda conn: writes.append(1)
                     if conn.get_execution_options().get("monitor_write") else None)

        # The cache lost: the next check extracts once, finds the same text, keeps quiet.
        with store.engine.begin() as conn:
            conn.execute(delete(page_keys))
        fresh = build_checker(fast_config(db_url), store)
        assert fresh.check("page").outcome == "unchanged"
        assert len(writes) == 1  # the ledger row and the key written again
        assert fresh.check("page").outcome == "unchanged"
        assert len(extracted) == 2 and logged() == before and len(writes) == 2
        fresh.fetcher.close()
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(page_keys)).scalar_one() == 1

        page = noisy.page(5)
        assert page is not None
        noisy.edit_page(5, paragraphs=[page.paragraphs[0].replace(" ", " 12 ", 1),
                                       *page.paragraphs[1:]])
        assert checker.check("page").outcome == "changed"
        assert len(extracted) == 3 and len(writes) == 3
        assert checker.check("page").outcome == "unchanged"
        assert len(extracted) == 3 and len(writes) == 4
        with store.engine.connect() as conn:
            outcomes = conn.execute(select(check_ledger.c.outcome)
                                    .order_by(check_ledger.c.id)).scalars().all()
        assert outcomes == [1] + [0] * 12 + [1, 0]
    finally:
        checker.fetcher.close()


def test_a_key_recorded_for_an_older_text_is_not_trusted(
    store, db_url: str, noisy: NoisySite
) -> None:
    from monitor.store.pagekeys import PageKeys

    keys = PageKeys(store.engine)
    keys.put("page", "a" * 64, "k1")
    assert PageKeys(store.engine).get("page", "a" * 64) == "k1"
    assert PageKeys(store.engine).get("page", "b" * 64) is None
    keys.put("page", "b" * 64, "k2")
    assert PageKeys(store.engine).get("page", "b" * 64) == "k2"
    assert PageKeys(store.engine).get("page", "a" * 64) is None
    # The same text from a page whose noise came up otherwise: both keys are known in
    # this process (the newest recorded), never for another text.
    keys.put("page", "b" * 64, "k3")
    assert keys.known("page", "b" * 64) == ("k3", frozenset({"k2"}))
    assert PageKeys(store.engine).known("page", "b" * 64) == ("k3", frozenset())
    assert keys.known("page", "a" * 64) == (None, frozenset())
    keys.put("page", "c" * 64, "k4")
    keys.put("page", "c" * 64, "k5")
    assert keys.known("page", "c" * 64) == ("k5", frozenset({"k4"}))


def test_masks_learned_twice_are_merged_and_what_a_group_covers_is_dropped() -> None:
    from monitor.sources.volatile import merged

    group = "html > body > ul:nth-of-type(1) > li"
    first = (group, "html > head > link:nth-of-type(1) @href")
    second = (f"{group}:nth-of-type(3)", f"{group}:nth-of-type(2) > a:nth-of-type(1) @href",
              "html > head > link:nth-of-type(1) @href", "html > body > p.views")
    assert merged(first, second) == (*first, "html > body > p.views")


_ARTICLE = ("<html><head><title>Heating season</title></head><body>"
            '<div class="topbar"><a class="promo" href="/promo">{banner}</a></div>'
            "<article><h1>Heating season</h1>{paragraphs}</article></body></html>")
_PARAGRAPHS = [f"<p>The city's heating season starts on 1 October in district {n}; "
               "residents are asked to check their radiators and report leaks to the "
               "utility's hotline before the pressure tests begin next week.</p>"
               for n in range(1, 6)]


def test_noise_that_learning_missed_is_learned_from_an_unchanged_check(
    store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A banner that stayed put while the source was learned rotates afterwards: the
    first unchanged check misses its key and learns the banner, the later ones hit,
    and an edit of the article is still a change."""
    from conftest import fast_config

    from monitor.catalog import register
    from monitor.config import SourceConfig
    from monitor.relearn import RELEARNED
    from monitor.replica.article_site import ArticleSite
    from monitor.runner import build_checker
    from monitor.sources import html as html_module
    from monitor.store.queries import source_by_stream

    extracted: list[str] = []
    real = html_module._main_text
    monkeypatch.setattr(html_module, "_main_text",
                        lambda root, url: extracted.append(url) or real(root, url))

    def page(banner: str, paragraphs: list[str] = _PARAGRAPHS) -> str:
        return _ARTICLE.format(banner=banner, paragraphs="".join(paragraphs))

    with ArticleSite(noise=False) as site:
        url = site.set_page(1, page("Subscribe to our newsletter"))
        register(store, SourceConfig(name="page", url=url, kind="html", interval_seconds=60))
        checker = build_checker(fast_config(db_url), store, learn_delay=0.01)
        try:
            assert checker.check("page").outcome == "captured"
            row = source_by_stream(store.engine, "page")
            assert row is not None and not row.volatile  # three identical loads
            site.set_page(1, page("Apply online for public services"))
            result = checker.check("page")
            assert result.outcome == "unchanged" and result.events == ("SourceReconfigured",)
            assert len(extracted) == 3  # the capture, this check, the text read again
            row = source_by_stream(store.engine, "page")
            assert row is not None and row.volatile and all(
                "promo" in m or "topbar" in m for m in row.volatile)
            history = store.read_stream(row.stream_id, 1)
            assert history[-1].data["reason"] == RELEARNED
            for banner in ("Take part in the public survey", "New hotline: 1414"):
                site.set_page(1, page(banner))
                assert checker.check("page").outcome == "unchanged"
            assert len(extracted) == 3  # the key hit: no extraction
            edited = [_PARAGRAPHS[0].replace("1 October", "15 October"), *_PARAGRAPHS[1:]]
            site.set_page(1, page("Subscribe to our newsletter", edited))
            assert checker.check("page").outcome == "changed"
        finally:
            checker.fetcher.close()


def test_noise_nothing_can_mask_holds_relearning_off_across_processes(
    store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stamp in an HTML comment changes on every load: no mask reaches it, so each
    unchanged check misses its key. One attempt to learn from it finds nothing and
    holds further attempts off for a day, kept with the page key, so a new checker
    (the next `check --all` from cron) does not pay for the comparison again."""
    from conftest import fast_config

    from monitor import relearn
    from monitor.catalog import register
    from monitor.clock import ManualClock
    from monitor.config import SourceConfig
    from monitor.replica.article_site import ArticleSite
    from monitor.runner import build_checker
    from monitor.store.schema import page_keys

    compared: list[int] = []
    real = relearn.volatile_selectors
    monkeypatch.setattr(relearn, "volatile_selectors",
                        lambda *a, **k: compared.append(1) or real(*a, **k))

    def page(stamp: int) -> str:
        body = _ARTICLE.format(banner="Subscribe", paragraphs="".join(_PARAGRAPHS))
        return body.replace("<article>", f"<!-- generated {stamp} --><article>")

    clock = ManualClock()
    with ArticleSite(noise=False) as site:
        url = site.set_page(1, page(0))
        register(store, SourceConfig(name="page", url=url, kind="html", interval_seconds=60))
        for stamp in (1, 2):  # each a new process: a new checker, nothing in memory
            checker = build_checker(fast_config(db_url), store, learn_delay=0.01, clock=clock)
            try:
                if stamp == 1:
                    assert checker.check("page").outcome == "captured"
                site.set_page(1, page(stamp))
                result = checker.check("page")
                assert result.outcome == "unchanged" and result.events == ()
            finally:
                checker.fetcher.close()
        assert len(compared) == 1  # the second checker held off
        with store.engine.connect() as conn:
            held = conn.execute(page_keys.select()).one().relearn_after
        assert held == int(clock.time()) + relearn.HOLD_SECONDS
        clock.advance(relearn.HOLD_SECONDS + 1)  # a day later it may try again
        checker = build_checker(fast_config(db_url), store, learn_delay=0.01, clock=clock)
        try:
            site.set_page(1, page(3))
            assert checker.check("page").outcome == "unchanged"
        finally:
            checker.fetcher.close()
        assert len(compared) == 2
