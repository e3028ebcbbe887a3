"""One check, end to end: replica page -> events. Noise never alerts; no edit is missed."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from conftest import REPO, fast_config

from monitor.baseline import import_baseline, read_baseline
from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.diff import Change
from monitor.normalize import parse_capture
from monitor.store import open_store
from monitor.store.queries import list_sources

SEED_META = REPO / "snapshots" / "govkz-mfa-2025-12-11-human-rights-penitentiary.en.toml"
SEED_TEXT = SEED_META.with_suffix(".txt")


def _types(store, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream(name)]


def _add(store, name: str, url: str, kind: str = "govkz") -> None:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name=name, url=url, kind=kind, interval_seconds=60))


def _seed(store, replica) -> str:  # type: ignore[no-untyped-def]
    url = replica.seed_baseline(article_id=1119829)
    _add(store, "seed", url)
    assert import_baseline(store, "seed", read_baseline(SEED_META))
    return url


def _changes(store, name: str) -> list[Change]:  # type: ignore[no-untyped-def]
    return [Change.from_dict(e.data["change"]) for e in store.read_stream(name)
            if e.type == "ChangeDetected"]


def test_seed_article_unchanged_on_the_replica_is_no_change(store, replica, checker) -> None:
    _seed(store, replica)
    first = checker.check("seed")
    assert first.outcome == "captured"  # the title, unknown in the capture, is filled in
    for _ in range(5):
        assert checker.check("seed").outcome == "unchanged"
    assert "ChangeDetected" not in _types(store, "seed")
    assert _types(store, "seed") == ["SourceRegistered", "BaselineImported", "VersionCaptured"]


def test_seed_with_one_sentence_edited_gives_one_hunk_of_that_sentence(
    store, replica, checker
) -> None:
    _seed(store, replica)
    paragraphs = list(parse_capture(SEED_TEXT.read_text(encoding="utf-8")).paragraphs)
    edited = paragraphs[5].replace("continued reforms", "ongoing reforms")
    assert edited != paragraphs[5]
    paragraphs[5] = edited
    replica.edit_article(1119829, "en", paragraphs=paragraphs)
    result = checker.check("seed")
    assert result.outcome == "changed"
    [change] = _changes(store, "seed")
    [hunk] = change.hunks
    assert hunk.kind == "wording" and hunk.old_index == 5 and hunk.new == edited


def test_fifty_checks_of_a_noisy_unchanged_article_record_nothing(
    store, replica, checker
) -> None:
    url = replica.add_article("mfa", 77, lang="ru", title="Брифинг", paragraphs=[
        "Официальный представитель МИД провел брифинг 14 июля 2026 года.",
        "Обсуждены 3 вопроса.",
    ], created_date="2026-07-14T11:58:00.000+05:00")
    _add(store, "brief", url)
    assert checker.check("brief").outcome == "captured"
    outcomes = {checker.check("brief").outcome for _ in range(50)}
    assert outcomes == {"unchanged"}
    assert _types(store, "brief") == ["SourceRegistered", "VersionCaptured"]


@pytest.mark.parametrize("edit,expected_kind,significance", [
    (lambda p: [p[0].replace("3", "4"), p[1], p[2]], "number", "high"),
    (lambda p: [p[0], p[1].replace("Khojim\u0430tov", "Khojimatov"), p[2]], "confusable", "low"),
    (lambda p: [p[0].replace("\u201cHuman", '"Human').replace("Rights\u201d", 'Rights"'),
                p[1], p[2]], "typography", "low"),
    (lambda p: [*p, "A new closing paragraph was added."], "paragraph_added", "medium"),
    (lambda p: [p[0], p[2]], "paragraph_removed", "high"),
    (lambda p: [p[1], p[2], p[0]], "paragraph_moved", "medium"),
    (lambda p: [p[0], p[1], p[2].replace("the meeting ended", "the session closed")],
     "wording", "medium"),
])
def test_each_edit_kind_is_detected_and_classified(
    store, replica, checker, edit, expected_kind: str, significance: str
) -> None:
    base = ["On 3 March \u201cHuman Rights\u201d were discussed by 40 delegates.",
            "Sukhrob Khojim\u0430tov spoke first.",
            "After a long debate the meeting ended with a joint statement."]
    url = replica.add_article("mfa", 5, title="Meeting", paragraphs=base,
                              created_date="2026-03-03T10:00:00.000+05:00")
    _add(store, "doc", url)
    checker.check("doc")
    replica.edit_article(5, "en", paragraphs=edit(base))
    result = checker.check("doc")
    assert result.outcome == "changed"
    [change] = _changes(store, "doc")
    assert expected_kind in [h.kind for h in change.hunks]
    assert change.significance == significance


def test_title_and_date_edits_are_high(store, replica, checker) -> None:
    url = replica.add_article("mfa", 6, title="Old title", paragraphs=["Body."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    _add(store, "doc", url)
    checker.check("doc")
    replica.edit_article(6, "en", title="New title", created_date="2026-03-04T10:00:00.000+05:00")
    assert checker.check("doc").outcome == "changed"
    [change] = _changes(store, "doc")
    assert {h.kind for h in change.hunks} == {"title", "date"}
    assert change.significance == "high"


def test_whitespace_reflow_is_no_event(store, replica, checker) -> None:
    url = replica.add_article("mfa", 8, title="T", paragraphs=["One two three.", "Four."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    _add(store, "doc", url)
    checker.check("doc")
    replica.edit_article(8, "en", body_html="<p>One \n  two&nbsp;three.</p>\n\n<p> Four. </p>")
    assert checker.check("doc").outcome == "unchanged"


def test_404_once_is_a_blip_and_three_times_is_removed(store, replica, checker) -> None:
    url = replica.add_article("mfa", 9, title="T", paragraphs=["Body."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    _add(store, "doc", url)
    checker.check("doc")
    replica.remove_article(9)
    assert checker.check("doc").outcome == "failed"
    replica.add_article("mfa", 9, title="T", paragraphs=["Body."],
                        created_date="2026-03-03T10:00:00.000+05:00")
    assert checker.check("doc").outcome == "unchanged"
    assert _types(store, "doc")[-2:] == ["FetchFailed", "SourceRecovered"]
    replica.remove_article(9)
    outcomes = [checker.check("doc").outcome for _ in range(4)]
    assert outcomes == ["failed", "failed", "removed", "failed"]
    types = _types(store, "doc")
    assert types.count("DocumentRemoved") == 1
    assert types[-1] == "DocumentRemoved"  # a gone document adds no more failures


def test_blocked_answer_is_a_failure_never_a_change(store, replica, checker) -> None:
    url = replica.add_article("mfa", 10, title="T", paragraphs=["Body."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    _add(store, "doc", url)
    checker.check("doc")
    replica.block = True
    result = checker.check("doc")
    assert result.outcome == "failed" and result.detail.startswith("blocked")
    replica.block = False
    assert checker.check("doc").outcome == "unchanged"
    assert "ChangeDetected" not in _types(store, "doc")


def test_dead_server_is_fetch_failed_and_recovery_is_recorded(store, checker) -> None:
    _add(store, "dead", "http://127.0.0.1:9/page", kind="html")
    result = checker.check("dead")
    assert result.outcome == "failed" and result.detail.startswith("connection")
    assert _types(store, "dead") == ["SourceRegistered", "FetchFailed"]


def test_noisy_html_page_learns_volatile_parts_then_stays_quiet(
    store, noisy_site, checker
) -> None:
    noisy_site.set_page(1, "Press release", ["First paragraph of the release.",
                                             "Second paragraph with 12 numbers."])
    _add(store, "page", noisy_site.page_url(1), kind="html")
    assert checker.check("page").outcome == "captured"
    source = open_store(checker.store.engine.url.render_as_string(hide_password=False))
    learned = [e for e in source.read_stream("page") if e.type == "SourceReconfigured"]
    assert learned and learned[0].data["changes"]["volatile"]
    outcomes = {checker.check("page").outcome for _ in range(20)}
    assert outcomes == {"unchanged"}
    noisy_site.edit_page(1, paragraphs=["First paragraph of the release.",
                                        "Second paragraph with 13 numbers."])
    assert checker.check("page").outcome == "changed"
    [change] = _changes(store, "page")
    assert change.significance == "high"


def test_a_pass_learns_new_pages_without_a_worker_asleep(
    store, noisy_site, checker, db_url: str, monkeypatch
) -> None:
    """Learning in a pass is two steps: every page's first load, then each page's
    other loads once its pause is over; no thread waits out a pause (issue 13)."""
    from monitor.runner import build_checker, run_pass
    from monitor.sources.html import HtmlPage

    for n in range(1, 6):
        noisy_site.set_page(n, f"Release {n}", [f"Paragraph {n} of the release."])
        _add(store, f"page{n}", noisy_site.page_url(n), kind="html")
    assert checker.check("page1").outcome == "captured"  # learned the old way: one call
    monkeypatch.setattr(HtmlPage, "learn_volatile", None)  # the sleeping way: not called
    stepped = build_checker(fast_config(db_url), store, learn_delay=0.3, learn_later=True)
    calls: list[tuple[str, str, float | None]] = []
    check = stepped.check

    def spied(name, row=None):  # type: ignore[no-untyped-def]
        result = check(name, row)
        calls.append((name, result.outcome, result.again_at))
        return result

    stepped.check = spied  # type: ignore[method-assign]
    names = [f"page{n}" for n in range(2, 6)]
    summary = run_pass(stepped, names, workers=2)
    stepped.fetcher.close()
    assert sorted((r.source, r.outcome) for r in summary.results) == [
        (n, "captured") for n in names]  # the half-learned step is not a result
    for name in names:
        mine = [(outcome, again) for n, outcome, again in calls if n == name]
        assert mine[0][0] == "learning" and mine[0][1] is not None
        assert mine[-1] == ("captured", None)
    assert len(stepped.first_loads) == 0  # each first load let go once used
    # The same selectors as the old way, but for the noise that three loads may show
    # the same by chance: the rotating banner (1 in 25) and the "related" list, 3 of
    # the 5 pages drawn per load (a place in it keeps its item with 1 chance in 25).
    def by_chance(selector: str) -> bool:
        return any(part in selector for part in ("banner", "aside", " > ul", " > li"))

    learned = {r.name: {s for s in r.volatile if not by_chance(s)}
               for r in list_sources(store.engine)}
    assert learned["page1"] and all(learned[n] == learned["page1"] for n in names), {
        n: learned[n] ^ learned["page1"] for n in names}


def _check_in_child(url: str, name: str, barrier) -> None:  # type: ignore[no-untyped-def]
    from monitor.runner import build_checker

    store = open_store(url)
    checker = build_checker(fast_config(url), store, learn=False)
    barrier.wait(timeout=30)
    checker.check(name)


def test_two_checkers_at_once_record_one_change(store, replica, checker, db_url: str) -> None:
    url = replica.add_article("mfa", 11, title="T", paragraphs=["There were 5 cases."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    _add(store, "doc", url)
    checker.check("doc")
    replica.edit_article(11, "en", paragraphs=["There were 6 cases."])
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_check_in_child, args=(db_url, "doc", barrier))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert _types(store, "doc").count("ChangeDetected") == 1
    assert _types(store, "doc").count("VersionCaptured") == 2


def test_check_cli_runs_a_pass_and_exits_0_even_when_pages_fail(tmp_path: Path) -> None:
    from cli_helpers import monitor

    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    # Refused connections are retried as configured, 50 ms apart (the default: 1 s, 2 s).
    (tmp_path / "monitor.toml").write_text('[fetch]\nbackoff = "0.05s"\n')
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    assert monitor("add", "--no-probe", "http://127.0.0.1:9/a", cwd=tmp_path, env=env).code == 0
    result = monitor("check", "--all", "--format", "json", cwd=tmp_path, env=env)
    assert result.code == 0, result.err
    assert result.json()["counts"] == {"failed": 1}
    missing = monitor("check", cwd=tmp_path, env=env)
    assert missing.code == 2 and "--all" in missing.err


def test_learn_on_demand_masks_the_view_counter(tmp_path: Path, noisy_site) -> None:
    from cli_helpers import monitor

    noisy_site.set_page(2, "Notice", ["The office is open.", "Call 123."])
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    (tmp_path / "monitor.toml").write_text('[fetch]\nmin_delay_per_host = "0s"\n')
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    assert monitor("add", noisy_site.page_url(2), "--name", "notice", cwd=tmp_path,
                   env=env).code == 0
    learned = monitor("learn", "notice", "--delay", "0.3", cwd=tmp_path, env=env)
    assert learned.code == 0, learned.err
    assert "volatile element(s) masked" in learned.out
    shown = monitor("sources", "--show", "notice", "--format", "json", cwd=tmp_path,
                    env=env).json()
    assert shown["volatile"], "the counter and clock should have been learned"
