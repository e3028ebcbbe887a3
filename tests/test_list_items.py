"""A list source's items are data (issue 10, item 11): the adapter declares that it lists
items, its versions record them in VersionCaptured, and news is read from them; versions
an older monitor recorded, with the items only in their text, are still read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from monitor.catalog import register, source_name
from monitor.config import SourceConfig
from monitor.document import Document
from monitor.events import Event
from monitor.listings import items_in_text, listed_items
from monitor.sources import KINDS
from monitor.store.snapshots import Blob


def _created(day: int) -> str:
    return f"2026-03-{day:02d}T10:00:00.000+05:00"


def _stream(store, name: str) -> list[Any]:  # type: ignore[no-untyped-def]
    return store.read_stream(name)


def test_only_the_list_kind_declares_that_it_lists_items() -> None:
    assert {kind for kind, cls in KINDS.items() if cls.lists_items} == {"govkz-list"}
    assert KINDS["govkz-list"].item_kind == "govkz"


def test_a_list_records_its_items_as_data_and_a_new_item_is_published_and_followed(
    store, replica, checker  # type: ignore[no-untyped-def]
) -> None:
    for n in (1, 2):
        replica.add_article("mfa", 40 + n, title=f"Release {n}", paragraphs=["Text."],
                            created_date=_created(n))
    name = source_name(store, replica.list_page_url("mfa"), "govkz-list")
    assert name.startswith("list-")  # the kind's declaration names it, not its spelling
    register(store, SourceConfig(name=name, url=replica.list_page_url("mfa"),
                                 kind="govkz-list", interval_seconds=60, follow=True))
    assert checker.check(name).outcome == "captured"
    [first] = [e for e in _stream(store, name) if e.type == "VersionCaptured"]
    assert first.schema_version == 2
    assert [(i["item_id"], i["published"], i["title"]) for i in first.data["items"]] == [
        ("42", "2026-03-02", "Release 2"), ("41", "2026-03-01", "Release 1")]
    assert first.data["items"][0]["url"].endswith("/press/news/details/42?lang=en")

    replica.add_article("mfa", 43, title="Release 3", paragraphs=["New text."],
                        created_date=_created(3))
    result = checker.check(name)
    assert result.outcome == "published"
    [published] = [e.data for e in _stream(store, name) if e.type == "DocumentPublished"]
    assert (published["item_id"], published["published"]) == ("43", "2026-03-03")
    followed = published["registered_as"]
    assert followed and checker.check(followed).outcome == "captured"
    assert [i.item_id for i in listed_items(store.engine, name)] == ["43", "42", "41"]
    assert checker.check(name).outcome == "unchanged"


def test_an_article_source_records_no_items(store, replica, checker) -> None:  # type: ignore[no-untyped-def]
    url = replica.add_article("mfa", 50, title="One", paragraphs=["Text."],
                              created_date=_created(5))
    register(store, SourceConfig(name="one", url=url, kind="govkz", interval_seconds=60))
    assert checker.check("one").outcome == "captured"
    [captured] = [e for e in _stream(store, "one") if e.type == "VersionCaptured"]
    assert captured.data["items"] is None


@dataclass(frozen=True)
class _VersionCapturedV1(Event):
    """VersionCaptured as an older monitor wrote it: no `items`."""

    type: ClassVar[str] = "VersionCaptured"
    schema_version: ClassVar[int] = 1
    content_hash: str
    url: str
    title: str | None = None
    published: str | None = None
    raw_hash: str | None = None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)


def test_a_list_version_recorded_before_items_were_data_is_still_read(
    store, replica, checker  # type: ignore[no-untyped-def]
) -> None:
    for n in (1, 2, 3):
        replica.add_article("mfa", 40 + n, title=f"Release ({n})", paragraphs=["Text."],
                            created_date=_created(n))
    url = replica.list_page_url("mfa")
    register(store, SourceConfig(name="old-list", url=url, kind="govkz-list",
                                 interval_seconds=60))
    # What an older monitor stored: the items only as lines of the version's text, and
    # item 41 had not been published yet then.
    old = Document("gov.kz mfa press releases (en)", None,
                   ("2026-03-03 Release (3) (43)", "2026-03-02 Release (2) (42)"))
    text = Blob.text(old.canonical_text())
    store.append("old-list", 1, [_VersionCapturedV1(content_hash=text.sha256, url=url)],
                 blobs=[text])
    [stored] = [e for e in _stream(store, "old-list") if e.type == "VersionCaptured"]
    assert stored.schema_version == 1 and "items" not in stored.data
    assert stored.event.items is None  # type: ignore[attr-defined]  # upcast: in the text
    assert [(i.item_id, i.title, i.published) for i in listed_items(store.engine, "old-list")
            ] == [("43", "Release (3)", "2026-03-03"), ("42", "Release (2)", "2026-03-02")]

    replica.add_article("mfa", 44, title="Release (4)", paragraphs=["Text."],
                        created_date=_created(4))
    assert checker.check("old-list").outcome == "published"
    published = [e.data["item_id"] for e in _stream(store, "old-list")
                 if e.type == "DocumentPublished"]
    # 44 is new; 41 is older than anything the old version listed (it moved up, no news).
    assert published == ["44"]
    assert [i.item_id for i in listed_items(store.engine, "old-list")] == ["44", "43", "42", "41"]


def test_items_in_an_old_versions_text_are_its_dated_lines() -> None:
    text = Document("gov.kz mfa press releases (ru)", None, (
        "2026-03-03 Приказ (№ 12) о (порядке) (43)", "????-??-?? Undated (x-1)",
        "A line that lists nothing")).canonical_text()
    assert [(i.item_id, i.title, i.published) for i in items_in_text(text)] == [
        ("43", "Приказ (№ 12) о (порядке)", "2026-03-03"), ("x-1", "Undated", None)]
