"""Issue 15 end to end, in Debian's chromium: a JavaScript-only page watched with
`render` and `screenshot`, edited by its script; the change is recorded with a picture of
each version, `show --screenshot` hands the picture out, the visual difference boxes the
edited paragraph, and the evidence bundle carries both pictures with their digests."""

from __future__ import annotations

import zipfile
from pathlib import Path

from cli_helpers import monitor
from test_render import (  # noqa: F401  (fixtures)
    TEXT,
    checker,
    db_url,
    renderer,
    serve_text,
    site,
    watch,
)

from monitor.diff import diff_documents
from monitor.screenshots import version_screenshot
from monitor.store.queries import version_document
from monitor.visual_diff import changed_regions, visual_diff
from monitor.web.routes.diffs import changed_texts

EDITED = "Fourteen facilities were inspected between March and October."


def test_a_scripted_edit_is_learned_recorded_pictured_boxed_and_bundled(
        store, checker, site, db_url: str, tmp_path: Path) -> None:  # noqa: F811
    watch(store, "shell", site.url("/"), screenshot=True)
    assert checker.check("shell").outcome == "captured"
    serve_text(site, [TEXT[0], EDITED])
    assert checker.check("shell").outcome == "changed"

    old, new = (version_screenshot(store.engine, "shell", v) for v in (1, 2))
    assert old is not None and new is not None and old.sha256 != new.sha256
    assert new.layout is not None and any(b["text"] == EDITED for b in new.layout["blocks"])

    change = diff_documents(version_document(store.engine, "shell", 1),
                            version_document(store.engine, "shell", 2))
    changed, removed = changed_texts(change)
    assert changed == [EDITED] and removed == []
    regions = changed_regions(old, new, changed, removed)
    (edited,) = [b["box"] for b in new.layout["blocks"] if b["text"] == EDITED]
    assert regions.source == "layout" and len(regions.boxes) == 1
    x, y, _, h = regions.boxes[0]
    assert x <= edited[0] and y <= edited[1] and y + h >= edited[1] + edited[3]
    assert visual_diff(old, new, changed, removed).startswith(b"\x89PNG\r\n\x1a\n")

    database = ["--database", db_url]
    picture = tmp_path / "v2.png"
    shown = monitor(*database, "show", "shell@2", "--screenshot", str(picture), cwd=tmp_path)
    assert shown.code == 0, shown.err
    assert picture.read_bytes() == new.png

    assert monitor(*database, "init", cwd=tmp_path).code == 0  # the key that signs
    bundle = tmp_path / "shell.zip"
    exported = monitor(*database, "export", "shell", "-o", str(bundle), cwd=tmp_path)
    assert exported.code == 0, exported.err
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        pictures = sorted(n for n in names if n.endswith(".png"))
        assert len(pictures) == 2 and archive.read(pictures[-1]) in (old.png, new.png)
    checked = monitor("verify-bundle", str(bundle), cwd=tmp_path)
    assert checked.code == 0, checked.out + checked.err
