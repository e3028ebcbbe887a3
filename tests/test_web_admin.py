"""The admin's pages: users (add, change role, remove, never the last admin) and the
checkpoint's public key; refused to anyone but an admin."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from web_helpers import PASSWORD, Client, serve

from monitor.evidence.keys import create_key, load_signing_key
from monitor.store import EventStore, migrate, open_store
from monitor.web.accounts.tokens import create_token
from monitor.web.accounts.users import find_user


@pytest.fixture
def sqlite_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


def test_admin_pages_refuse_an_editor_and_a_viewer(sqlite_store: EventStore) -> None:
    with serve(sqlite_store) as served:
        editor = served.user("dana", "editor")
        viewer = served.token("ivan", "viewer")
        for path in ("/admin/users", "/admin/keys"):
            assert editor.get(path).status_code == 403
            assert requests.get(served.url + path, headers={"Authorization": f"Bearer {viewer}"},
                                timeout=10).status_code == 403
        added = editor.submit("/admin/users", {"name": "mallory", "role": "admin",
                                               "password": PASSWORD})
        assert added.status_code == 403
        promoted = editor.submit("/admin/users/dana/role", {"role": "admin"})
        assert promoted.status_code == 403
    assert find_user(sqlite_store.engine, "mallory") is None
    assert find_user(sqlite_store.engine, "dana").role == "editor"  # type: ignore[union-attr]


def test_an_admin_adds_users_changes_their_role_and_removes_them(sqlite_store: EventStore) -> None:
    """…and a removed user's session and tokens end with them."""
    engine = sqlite_store.engine
    with serve(sqlite_store) as served:
        admin = served.user("aigerim", "admin")
        added = admin.submit("/admin/users", {"name": "bek", "role": "viewer",
                                              "password": PASSWORD}, "/admin/users")
        assert added.status_code == 200 and "bek" in added.text  # after the redirect
        bek = served.client("bek")  # signs in with the password the admin gave
        create_token(engine, "bek")
        token = create_token(engine, "bek")[1]
        page = admin.get("/admin/users").text
        row = page.split("<td>bek", 1)[1].split("</tr>", 1)[0]
        assert "<td>viewer</td>" in row and "<td>2</td>" in row
        short = admin.submit("/admin/users", {"name": "<b>x</b>", "role": "viewer",
                                              "password": "short"}, "/admin/users")
        assert short.status_code == 400 and "&lt;b&gt;x&lt;/b&gt;" in short.text
        assert "<b>x</b>" not in short.text
        taken = admin.submit("/admin/users", {"name": "bek", "role": "viewer",
                                              "password": PASSWORD}, "/admin/users")
        assert taken.status_code == 400 and "exists already" in taken.text
        admin.submit("/admin/users/bek/role", {"role": "editor"}, "/admin/users")
        assert find_user(engine, "bek").role == "editor"  # type: ignore[union-attr]
        bad = admin.submit("/admin/users/bek/role", {"role": "king"}, "/admin/users")
        assert bad.status_code == 400 and "is not a role" in bad.text
        assert bek.get("/", allow_redirects=False).status_code == 200
        admin.submit("/admin/users/bek/remove", {}, "/admin/users")
        assert find_user(engine, "bek") is None
        assert bek.get("/", allow_redirects=False).status_code == 303
        assert Client(served.url).get("/", headers={"Authorization": f"Bearer {token}"},
                                      allow_redirects=False).status_code == 401
        assert admin.submit("/admin/users/bek/remove", {}, "/admin/users").status_code == 400


def test_the_last_admin_is_neither_removed_nor_demoted(store: EventStore) -> None:
    with serve(store) as served:
        admin = served.user("aigerim", "admin")
        demoted = admin.submit("/admin/users/aigerim/role", {"role": "viewer"}, "/admin/users")
        assert demoted.status_code == 400 and "last admin" in demoted.text
        removed = admin.submit("/admin/users/aigerim/remove", {}, "/admin/users")
        assert removed.status_code == 400 and "last admin" in removed.text
        assert find_user(store.engine, "aigerim").role == "admin"  # type: ignore[union-attr]
        admin.submit("/admin/users", {"name": "timur", "role": "admin", "password": PASSWORD},
                     "/admin/users")
        stepped_down = admin.submit("/admin/users/aigerim/role", {"role": "editor"},
                                    "/admin/users", allow_redirects=False)
        assert stepped_down.status_code == 303
        assert admin.get("/admin/users").status_code == 403  # an editor now
        timur = served.client("timur")
        assert timur.submit("/admin/users/timur/remove", {}, "/admin/users").status_code == 400


def test_the_keys_page_shows_the_public_key_and_never_the_private(
    sqlite_store: EventStore, tmp_path: Path
) -> None:
    with serve(sqlite_store) as served:
        admin = served.user("aigerim", "admin")
        missing = admin.get("/admin/keys")
        assert missing.status_code == 200 and "monitor init" in missing.text
        key_file = tmp_path / "keys" / "checkpoint.ed25519"  # beside the store, as `init` makes it
        assert create_key(key_file)
        page = admin.get("/admin/keys").text
    key = load_signing_key(key_file)
    assert key.public.fingerprint in page and key.public.key_id in page
    assert base64.b64encode(key.public.raw).decode() in page
    assert "BEGIN PUBLIC KEY" in page and "PRIVATE" not in page
    private = key.key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    for shown in (base64.b64encode(private).decode(), private.hex()):
        assert shown not in page
    pem = key_file.read_text()
    body = "".join(pem.splitlines()[1:-1])
    assert body not in page and body[:40] not in page
