"""Every URL a user adds is watched, under a name of its own that a person can read."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Result, monitor

from monitor.catalog import SourceNames, register
from monitor.config import SourceConfig, load_config
from monitor.errors import UsageError
from monitor.naming import derive_name, same_url, with_suffix
from monitor.validation import valid_name

Run = Callable[..., Result]



def _watched(run: Run) -> dict[str, str]:
    return {s["url"]: s["name"] for s in run("sources", "--format", "json").json()}


def _added(run: Run, *urls: str) -> list[str]:
    result = run("add", "--no-probe", *urls, "--format", "json")
    assert result.code == 0, result.err
    return list(result.json()["added"])


def test_two_query_strings_are_two_sources(run: Run) -> None:
    [first] = _added(run, "https://example.com/news.php?id=1")
    [second] = _added(run, "https://example.com/news.php?id=2")
    assert (first, second) == ("example-com-news-php-id-1", "example-com-news-php-id-2")
    assert set(_watched(run)) == {"https://example.com/news.php?id=1",
                                  "https://example.com/news.php?id=2"}


def test_a_slash_and_a_dash_are_two_sources_and_the_second_gets_a_stable_suffix(
    run: Run,
) -> None:
    [first] = _added(run, "https://example.com/a/b")
    [second] = _added(run, "https://example.com/a-b")
    assert first == "example-com-a-b"
    assert second == with_suffix(first, "https://example.com/a-b")  # the same on every store
    assert len(second) == len(first) + 9
    assert _watched(run) == {"https://example.com/a/b": first, "https://example.com/a-b": second}


def test_two_cyrillic_urls_get_two_readable_names(run: Run) -> None:
    names = _added(run, "https://minjust.gov.kz/приказ/318",
                   "https://minjust.gov.kz/%D1%80%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%8F%D0%B6"
                   "%D0%B5%D0%BD%D0%B8%D0%B5/12")
    assert names == ["minjust-gov-kz-приказ-318", "minjust-gov-kz-распоряжение-12"]


def test_a_kazakh_url_keeps_its_letters(run: Run) -> None:
    assert _added(run, "https://adilet.zan.kz/kaz/docs/Қаулы-12") == [
        "adilet-zan-kz-kaz-docs-қаулы-12"]


def test_the_same_url_twice_is_one_source_however_it_is_spelled(run: Run) -> None:
    [name] = _added(run, "https://пример.рф/приказ?id=7")
    for spelling in ("https://пример.рф/приказ?id=7",
                     "HTTPS://XN--E1AFMKFD.XN--P1AI:443/%d0%bf%d1%80%d0%b8%d0%ba%d0%b0%d0%b7?id=7",
                     "https://пример.рф/приказ?id=7#section-2"):
        again = run("add", "--no-probe", spelling, "--format", "json")
        assert again.code == 0 and again.json()["existing"] == [name], spelling
    assert len(_watched(run)) == 1


def test_urls_from_one_file_each_get_their_own_name(run: Run, tmp_path: Path) -> None:
    urls = [f"https://example.com/news.php?id={n}" for n in range(1, 4)] + [
        "https://example.com/a/b", "https://example.com/a-b", "https://example.com/A/B",
        "https://example.com/a/b"]  # the last one is the first again
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
    result = run("add", "--from-file", str(listing), "--format", "json")
    assert result.code == 0, result.err
    added = result.json()["added"]
    assert len(added) == len(set(added)) == 6
    assert result.json()["existing"] == ["example-com-a-b"]
    assert set(_watched(run)) == set(urls)


def test_a_source_keeps_the_name_it_was_registered_under(store) -> None:  # type: ignore[no-untyped-def]
    url = "https://example.com/news.php?id=1"
    register(store, SourceConfig(name="example-com-news-php", url=url, kind="html",
                                 interval_seconds=60))  # named as `add` used to name it
    assert SourceNames(store).name_for(url, "html") == "example-com-news-php"
    assert SourceNames(store).name_for(url + "0", "html") == "example-com-news-php-id-10"


def test_govkz_article_names_are_as_they_always_were() -> None:
    url = "https://www.gov.kz/memleket/entities/mfa/press/news/details/12345?lang=en"
    assert derive_name(url, "govkz") == "govkz-mfa-12345-en"
    assert derive_name(url.replace("?lang=en", ""), "govkz") == "govkz-mfa-12345"


def test_same_url_keeps_what_the_server_would_see_differently() -> None:
    assert same_url("HTTP://Example.COM:80/a%7e?x=%2f#top") == "http://example.com/a~?x=%2F"
    assert same_url("https://example.com") == same_url("https://example.com/")
    for other in ("https://example.com/a%2Fb", "https://example.com/A/b",
                  "https://example.com:8443/a/b", "http://example.com/a/b",
                  "https://example.com/a/b/"):
        assert same_url(other) != same_url("https://example.com/a/b"), other


def test_a_name_in_cyrillic_or_kazakh_letters_is_accepted(run: Run) -> None:
    for name in ("приказ-минюст-318", "қаулы-12"):
        result = run("add", "--no-probe", f"https://example.com/{name}", "--name", name)
        assert result.code == 0, result.err
    assert sorted(_watched(run).values()) == ["приказ-минюст-318", "қаулы-12"]


@pytest.mark.parametrize("bad", ["-leading", "has space", "a/b", "tab\there", "", "x" * 201,
                                 "ctrl\x1b[2J", "emoji🙂"])
def test_a_bad_name_is_refused_saying_what_is_allowed(run: Run, bad: str) -> None:
    result = run("add", "https://example.com/page", "--name", bad)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "a name starts with a letter or digit, then letters (any alphabet), digits, " \
           "'.', '_' or '-'" in result.err
    assert _watched(run) == {}


def test_names_are_checked_the_same_in_the_config(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[[sources]]\nname = "приказ-318"\nurl = "https://example.com/p"\n',
                      encoding="utf-8")
    assert load_config(str(config)).sources[0].name == "приказ-318"
    config.write_text('[[sources]]\nname = "a b"\nurl = "https://example.com/p"\n')
    refused = monitor("--config", str(config), "init", cwd=tmp_path)
    assert refused.code == 2
    assert "sources[0].name: 'a b': a name starts with a letter or digit" in refused.err


def test_derived_names_are_always_valid_names() -> None:
    for url in ("https://example.com/", "https://127.0.0.1:8080/", "https://example.com/_/-/",
                "https://example.com/\u0301x", "https://example.com/" + "слово-" * 40,
                "https://example.com/%ff%fe", "https://[::1]/x"):
        assert valid_name(derive_name(url, "html")), url


def test_two_adds_of_different_urls_cannot_share_a_derived_name(store) -> None:  # type: ignore[no-untyped-def]
    names = SourceNames(store)  # read before another `add` registered its URL
    register(store, SourceConfig(name="example-com-a-b", url="https://example.com/a-b",
                                 kind="html", interval_seconds=60))
    spec = SourceConfig(name=names.name_for("https://example.com/a/b", "html"),
                        url="https://example.com/a/b", kind="html", interval_seconds=60)
    with pytest.raises(UsageError, match=re.escape("was just taken by https://example.com/a-b")):
        register(store, spec, only=frozenset({"interval_seconds"}))
    events = store.read_stream("example-com-a-b")
    assert [e.data.get("url") for e in events] == ["https://example.com/a-b"]


def test_a_look_alike_of_the_portal_takes_neither_its_names_nor_its_kind() -> None:
    """`www.gov.kz.example` is not gov.kz: its article-shaped URL is a page of that host,
    so it can never hold `govkz-mfa-12345-en` before the portal's own article does."""
    from monitor.catalog import guessed_kind
    from monitor.naming import derive_name

    path = "/memleket/entities/mfa/press/news/details/12345?lang=en"
    for host in ("https://www.gov.kz.evil.example", "https://evilgov.kz"):
        assert guessed_kind(host + path)[0] == "html"
        assert not derive_name(host + path, "govkz").startswith("govkz-")
    for host in ("https://www.gov.kz", "https://gov.kz", "http://127.0.0.1:8080"):
        assert guessed_kind(host + path)[0] == "govkz"  # the portal, or a mirror of yours
        assert derive_name(host + path, "govkz") == "govkz-mfa-12345-en"
