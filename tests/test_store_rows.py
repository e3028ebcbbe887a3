"""The projections' rows come out typed (monitor.store.rows), with every column."""

from __future__ import annotations

import pickle
from dataclasses import fields
from datetime import datetime

from monitor.events import SourceRegistered, VersionCaptured
from monitor.store.queries import get_source, list_sources, list_versions, version_text
from monitor.store.rows import SourceRow, VersionRow
from monitor.store.schema import sources, versions
from monitor.store.snapshots import Blob


def test_a_row_has_a_field_for_each_column_of_its_table_in_order() -> None:
    assert [f.name for f in fields(SourceRow)] == [c.name for c in sources.columns]
    assert [f.name for f in fields(VersionRow)] == [c.name for c in versions.columns]


def test_sources_and_versions_read_back_as_typed_rows(store) -> None:  # type: ignore[no-untyped-def]
    store.append("doc", 0, [SourceRegistered(name="doc", url="http://127.0.0.1/doc",
                                             kind="html", interval_seconds=60,
                                             ignore=(".ad",))])
    text = Blob.text("# Title\n\nA paragraph.\n")
    store.append("doc", 1, [VersionCaptured(content_hash=text.sha256, url="http://127.0.0.1/d",
                                            title="Title")], blobs=[text])
    [row] = list_sources(store.engine)
    assert isinstance(row, SourceRow) and row == get_source(store.engine, "doc")
    assert (row.ignore, row.options, row.follow, row.document_version) == ([".ad"], {}, False, 1)
    assert isinstance(row.registered_at, datetime) and row.registered_at.tzinfo is None
    [version] = list_versions(store.engine, "doc")
    assert isinstance(version, VersionRow)
    assert (version.content_hash, version.origin, version.title) == (text.sha256, "captured",
                                                                    "Title")
    assert version_text(store.engine, "doc") == (version, "# Title\n\nA paragraph.\n")
    assert pickle.loads(pickle.dumps(row)) == row  # a process pool may carry one
