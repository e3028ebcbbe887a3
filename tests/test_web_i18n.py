"""The web app in Russian, Kazakh and English: every msgid extracted from its templates
and Python has a translation in both `web` catalogs with the same placeholders; the
language is the user's setting, else the browser's Accept-Language, else `[display]
language`; messages a route builds (a refused password, a refused role, a missing
source) come in that language too; and moments are in the reader's timezone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from lxml import html
from web_helpers import PASSWORD, Client, Served, serve

from monitor.catalog import register
from monitor.clock import ManualClock
from monitor.config import SourceConfig
from monitor.events import FetchFailedEvent, VersionCaptured
from monitor.i18n import Reader
from monitor.store import EventStore, migrate, open_store
from monitor.web.accounts.users import find_user, set_preferences

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "monitor" / "locale"
T0 = datetime(2026, 3, 1, 10, 0, 0)  # naive UTC: 15:00 in Almaty, 19:00 in Tokyo
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}  # as `make messages`


# --- the catalogs -------------------------------------------------------------------
def _extracted() -> set[Any]:
    with (LOCALE / "web-babel.cfg").open() as cfg:
        methods, options = parse_mapping_cfg(cfg)
    return {message for _, _, message, _, _ in extract_from_dir(
        str(REPO / "monitor" / "web"), methods, options, KEYWORDS)}


@pytest.fixture(scope="module")
def msgids() -> set[Any]:
    return _extracted()


@pytest.mark.parametrize("language,forms", [("ru", 3), ("kk", 2)])
def test_every_web_msgid_is_translated_with_the_same_placeholders(
    msgids: set[Any], language: str, forms: int
) -> None:
    assert len(msgids) > 300 and "Sign in" in msgids and "Wrong name or password." in msgids
    assert ("%(num)d source", "%(num)d sources") in msgids  # templates' plurals too
    with (LOCALE / language / "LC_MESSAGES" / "web.po").open("rb") as po:
        catalog = read_po(po, locale=language, domain="web")
    assert catalog.num_plurals == forms
    held = {m.id: m for m in catalog if m.id}
    missing = sorted(str(m) for m in msgids if m not in held)
    assert not missing, f"{language}: no translation for {missing}"
    assert not sorted(str(m) for m in held if m not in msgids), f"{language}: unused msgids"
    for message_id, message in held.items():
        assert not message.fuzzy, f"{language}: {message_id!r} is fuzzy"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (forms if message.pluralizable else 1), message_id
        sources = message_id if isinstance(message_id, tuple) else (message_id,)
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for string in strings:
            assert string.strip(), f"{language}: {message_id!r} has an empty translation"
            assert set(PLACEHOLDER.findall(string)) == wanted, (language, message_id, string)


def test_the_alerts_words_are_not_extracted_into_the_web_catalog(msgids: set[Any]) -> None:
    # monitor.web.history reads a publication's summary from the `monitor` catalog.
    assert "new document published" not in msgids
    assert "cross-origin request refused" in msgids and "dead letter" in msgids


# --- the app ------------------------------------------------------------------------
@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """One source, failing since T0 (its first version a minute before)."""
    store = open_store(f"sqlite:///{tmp_path / 'i18n.db'}", check_schema=False,
                       clock=ManualClock(T0))
    migrate.upgrade(store.engine)
    register(store, SourceConfig(name="decree", url="http://127.0.0.1:9/decree", kind="html",
                                 interval_seconds=600))
    _append(store, "decree", VersionCaptured(content_hash="1" * 64, url="http://127.0.0.1:9/x",
                                             title="Указ о судах"))
    _append(store, "decree", FetchFailedEvent(kind="timeout", message="read timed out"))
    with serve(store) as found:
        yield found
    store.engine.dispose()


def _append(store: EventStore, name: str, event: Any) -> None:
    store.append(name, store.stream_version(name), [event])


def _viewer(served: Served, language: str) -> Client:
    """A token's client: no preferences of its own, so the browser's language counts."""
    client = served.client()
    client.headers.update({"Authorization": f"Bearer {served.token(f'r{language}', 'viewer')}",
                           "Accept": "text/html", "Accept-Language": language})
    return client


def _text(page: str) -> str:
    return " ".join(html.fromstring(page).text_content().split())


def test_the_login_page_speaks_the_browsers_language(served: Served) -> None:
    visitor = Client(served.url)
    russian = visitor.get("/login", headers=RUSSIAN).text
    assert '<html lang="ru">' in russian and "Вход · govkz-monitor" in russian
    assert "<label>Имя" in russian and "<label>Пароль" in russian and "Sign in" not in russian
    kazakh = visitor.get("/login", headers={"Accept-Language": "kk"}).text
    assert '<html lang="kk">' in kazakh and "<h1>Кіру</h1>" in kazakh and "Құпиясөз" in kazakh
    german = visitor.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert '<html lang="en">' in german and "<h1>Sign in</h1>" in german  # [display]: en
    assert '<html lang="en">' in visitor.get("/login").text  # no header at all
    with serve(served.store, display_language="kk") as kazakh_by_default:
        fallback = Client(kazakh_by_default.url).get("/login", headers={"Accept-Language": "de"})
    assert '<html lang="kk">' in fallback.text and "<h1>Кіру</h1>" in fallback.text


def test_a_refused_sign_in_is_said_in_the_browsers_language(served: Served) -> None:
    served.user("ivan", "viewer")
    visitor = Client(served.url)
    token = visitor.csrf("/login")
    wrong = visitor.post("/login", data={"name": "ivan", "password": "not the password",
                                         "csrf": token}, headers=RUSSIAN)
    assert wrong.status_code == 401 and "Неверное имя или пароль." in wrong.text
    assert "Wrong name" not in wrong.text
    # The Public dependency speaks before it checks the form's CSRF token.
    forged = visitor.post("/login", data={"name": "ivan", "password": PASSWORD},
                          headers={"Accept-Language": "kk"})
    assert forged.status_code == 403 and "<h1>Рұқсат жоқ</h1>" in forged.text
    assert "форманың мерзімі өтіп кеткен" in forged.text


def test_a_users_language_wins_over_the_browsers(served: Served) -> None:
    aigerim = served.user("aigerim", "viewer")
    user = find_user(served.store.engine, "aigerim")
    assert user is not None
    set_preferences(served.store.engine, user.id, "kk", "Asia/Tokyo")
    board = aigerim.get("/", headers=RUSSIAN).text
    assert '<html lang="kk">' in board and "<h1>Тақта</h1>" in board
    row = html.fromstring(board).xpath('//tr[@data-source="decree"]')[0]
    assert row.xpath('string(td[@class="state"])') == "ақау"  # failing
    # The board's compact times are the reader's: T0 is 19:00 in Tokyo.
    assert row.xpath('string(td[@class="failing-since"]/time)') == "2026-03-01 19:00 +09:00"
    assert "Уақыт: Asia/Tokyo (UTC+09:00)" in _text(board)
    # A route's own message (async route) and a form's error (a sync one, in a thread).
    missing = aigerim.get("/sources/nope", headers=RUSSIAN)
    assert missing.status_code == 404 and "nope атты дереккөз жоқ." in missing.text
    bad_zone = aigerim.submit("/account/preferences", {"language": "kk", "timezone": "Mars/X"},
                              "/account", headers=RUSSIAN)
    assert bad_zone.status_code == 400 and "белгісіз IANA уақыт белдеуі" in bad_zone.text
    # A refusal names both roles in the reader's words.
    refused = aigerim.submit("/sources/decree/pause", {}, "/sources", headers=RUSSIAN)
    assert refused.status_code == 403
    assert "бұл үшін «редактор» рөлі керек, ал сіздің рөліңіз — «оқырман»" in refused.text
    # Moments in full (|moment) are in the user's timezone and language too.
    document = aigerim.get("/sources/decree").text
    assert Reader("kk", "Asia/Tokyo").moment(T0) in document
    assert Reader("kk", "Asia/Tokyo").moment(T0) == "2026-03-01 19:00 +09:00"


def test_words_of_one_reader_never_stick_to_the_next(served: Served) -> None:
    # Templates imported without context are kept by Jinja: words looked up at their
    # top would keep the first reader's language for every later page.
    russian, english = _viewer(served, "ru"), _viewer(served, "en")
    for client, words, foreign in ((russian, ("первая версия", "сбой", "Хронология"), "failing"),
                                   (english, ("first version", "failing", "Timeline"), "сбой"),
                                   (russian, ("первая версия", "сбой"), "first version")):
        page = _text(client.get("/sources/decree").text)
        assert all(word in page for word in words), (words, page[:300])
        assert foreign not in page
    for client, state in ((russian, "сбой"), (english, "failing"), (russian, "сбой")):
        row = html.fromstring(client.get("/").text).xpath('//tr[@data-source="decree"]')[0]
        assert row.xpath('string(td[@class="state"])') == state
        # No preference: the default timezone, Asia/Almaty (UTC+5).
        assert row.xpath('string(td[@class="failing-since"]/time)') == "2026-03-01 15:00 +05:00"


def test_codes_shown_to_people_get_their_words(served: Served) -> None:
    russian = _viewer(served, "ru")
    sources = _text(russian.get("/sources").text)
    assert "decree" in sources and "сбой" in sources
    page = html.fromstring(russian.get("/deliveries").text)
    options = page.xpath('//select[@name="state"]/option/text()')
    assert "в очереди (0)" in options and "не доставлено (0)" in options
    report = html.fromstring(russian.get("/report").text)
    assert report.xpath('//select[@name="min_significance"]/option/text()') == [
        "любая", "низкая", "средняя", "высокая"]
    assert report.xpath('//select[@name="min_significance"]/option/@value') == [
        "", "low", "medium", "high"]  # the codes stay what `monitor report` takes
