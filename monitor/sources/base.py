"""What every source adapter is: a kind name, and one capture of one source.

An adapter turns a fetched page into a canonical `Document` (or, for a list
source, the items it lists). It does I/O only through the `Fetcher` it is
given, and it reports every failure as `FetchFailed` with a kind; a 404/410 or
gov.kz's own "not found" answer is `FetchFailed(kind="not_found")` — whether
that means the document was removed is decided by the check, not here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from monitor.document import Document

if TYPE_CHECKING:
    from monitor.fetch import Fetcher


@dataclass(frozen=True)
class SourceSpec:
    """Everything an adapter needs to know about one monitored source."""

    name: str
    url: str
    kind: str
    language: str | None = None
    selector: str | None = None
    ignore: tuple[str, ...] = ()  # CSS selectors, or "regex:<pattern>" masks
    volatile: tuple[str, ...] = ()  # selectors learned to change on every load
    follow: bool = False  # list sources: register new articles as sources
    ca_bundle: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Validators:
    """What the last capture said, for a conditional GET; and the key of the page
    that gave the source's current text, where the adapter computes one (an
    unchanged key is "not modified" without extracting: `monitor.sources.pagekey`)."""

    etag: str | None = None
    last_modified: str | None = None
    page_key: str | None = None
    # Other keys that gave the same current text (a banner rotating among a few texts
    # the learner did not catch): any of them is as good as `page_key`.
    other_keys: frozenset[str] = frozenset()

    def knows(self, key: str) -> bool:
        """Whether `key` is one that gave the source's current text."""
        return key == self.page_key or key in self.other_keys


@dataclass(frozen=True)
class ListedItem:
    """One entry of a list source (a ministry's press list). The captured version
    keeps them as data (`VersionCaptured.items`, in `to_data`'s shape)."""

    item_id: str
    url: str
    title: str
    published: str | None = None

    def to_data(self) -> dict[str, str | None]:
        return {"item_id": self.item_id, "url": self.url, "title": self.title,
                "published": self.published}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ListedItem:
        published = data.get("published")
        return cls(item_id=str(data["item_id"]), url=str(data["url"]), title=str(data["title"]),
                   published=published if isinstance(published, str) else None)


@dataclass(frozen=True)
class Capture:
    """One successful read of a source."""

    document: Document
    final_url: str
    raw: bytes = b""
    main_document: bytes = b""  # a rendered page: its own HTTP body, beside `raw` (the DOM)
    content_type: str = ""
    validators: Validators = Validators()
    redirects: tuple[str, ...] = ()
    items: tuple[ListedItem, ...] = ()  # list sources only
    # How the adapter read the source, kept with the version as evidence (for gov.kz:
    # the lookup used, the item's id, the challenge passed, attached files).
    evidence: Mapping[str, Any] = field(default_factory=dict)
    screenshot: bytes | None = None  # a full-page PNG of what the browser showed
    layout: bytes | None = None  # JSON: where each block of text was on that PNG


@dataclass(frozen=True)
class NotModified:
    """The server answered 304, or the page's key is the one recorded for the
    current text: nothing to extract, nothing to store."""

    validators: Validators = Validators()


class SourceAdapter(ABC):
    """A kind of source. Subclasses declare `kind`; the docstring is the help text."""

    kind: ClassVar[str]
    # Whether capture() computes a page key (Validators.page_key) and honours the
    # previous one: the check looks the recorded key up only for those that do.
    page_keys: ClassVar[bool] = False
    # Whether capture() sends the credentials a source's `auth_env` names
    # (monitor.sources.credentials); the config refuses auth_env for the others.
    takes_credentials: ClassVar[bool] = False
    # Whether the source is a list of items (Capture.items): its versions record the
    # items as data, and an item it did not list before is news (DocumentPublished),
    # followed as a source of `item_kind` when the source has `follow`.
    lists_items: ClassVar[bool] = False
    item_kind: ClassVar[str | None] = None

    @abstractmethod
    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        """Fetch and extract the source once. Raises FetchFailed."""

    def learn_volatile(self, spec: SourceSpec, fetcher: Fetcher) -> tuple[str, ...]:
        """Selectors whose text differs between two loads; empty for adapters that need none."""
        return ()

    def learn_first(self, spec: SourceSpec, fetcher: Fetcher) -> str:
        """Learning in two steps, so that no one waits between the loads: the first
        load's text, remembered by the caller until `learn_after` seconds have passed."""
        raise NotImplementedError

    def learn_from(self, spec: SourceSpec, fetcher: Fetcher, first: str) -> tuple[str, ...]:
        """What `learn_volatile` returns, given the first load (from `learn_first`)
        made at least `learn_after(spec)` seconds ago."""
        raise NotImplementedError

    def learn_after(self, spec: SourceSpec) -> float:
        """Seconds between the first load and the next ones."""
        return 0.0


def learns_in_two_steps(adapter: SourceAdapter) -> bool:
    """Whether the adapter's learning can be split at its pause (learn_first, learn_from)."""
    return type(adapter).learn_from is not SourceAdapter.learn_from


def learns_volatile(adapter: SourceAdapter) -> bool:
    """Whether the adapter learns, on a source's first check, what changes on every load."""
    return type(adapter).learn_volatile is not SourceAdapter.learn_volatile
