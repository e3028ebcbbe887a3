"""Evidence bundles: exported from the demo's store, checked with no store (in a
process whose home and working directory hold none), and failing, with the right
words, once any byte of a capture, a text, an event or a signature is changed."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from cli_helpers import Result, monitor
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from monitor.evidence.bundle import layout
from monitor.evidence.keys import create_key, load_signing_key

NAME = "mfa-human-rights-penitentiary-en"


class Demo:
    """The demo's store, kept, with a checkpoint key (`monitor init`) and one bundle of
    all its versions; `unkeyed` is a copy of the store from before the key was made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        made = monitor("demo", "--keep", str(root / "demo"), cwd=root, timeout=90)
        assert made.code == 0, made.err + made.out[-2000:]
        self.db = root / "demo" / "demo.db"
        (root / "unkeyed").mkdir()
        shutil.copy(self.db, root / "unkeyed" / "demo.db")
        self.unkeyed = f"sqlite:///{root / 'unkeyed' / 'demo.db'}"
        self.url = f"sqlite:///{self.db}"
        assert self.run("init").code == 0
        self.bundle = root / "all.zip"
        self.exported = self.run("export", NAME, "--output", str(self.bundle))

    def run(self, *args: str, url: str | None = None) -> Result:
        return monitor("--database", url or self.url, *args, cwd=self.root)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return Demo(tmp_path_factory.mktemp("bundle-demo"))


def verify(bundle: Path, *args: str) -> Result:
    return monitor("verify-bundle", str(bundle), *args, cwd=bundle.parent)


def members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as z:
        return {name: z.read(name) for name in z.namelist()}


def altered(demo: Demo, tmp_path: Path, name: str, change: Callable[[bytes], bytes],
            *, fix_manifest: bool = True) -> Path:
    """A copy of the bundle with one member changed; its SHA256SUMS line recomputed
    (a forger would) unless told not to."""
    found = members(demo.bundle)
    found[name] = change(found[name])
    if fix_manifest:
        found[layout.MANIFEST] = layout.manifest(
            {k: v for k, v in found.items() if k != layout.MANIFEST})
    out = tmp_path / f"altered-{name.replace('/', '-')}.zip"
    with zipfile.ZipFile(out, "w") as z:
        for key, body in found.items():
            z.writestr(key, body)
    return out


def flip(offset: int) -> Callable[[bytes], bytes]:
    def change(body: bytes) -> bytes:
        at = offset % len(body)
        return body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1:]
    return change


def test_the_demo_store_exports_a_bundle_that_checks_in_a_process_with_no_store(
    demo: Demo, tmp_path: Path
) -> None:
    assert demo.exported.code == 0, demo.exported.err
    assert "no checkpoint covered these events: signed one" in demo.exported.out
    assert "versions 1-3, 5 events, 3 raw captures" in demo.exported.out
    names = set(members(demo.bundle))
    assert {layout.README, layout.MANIFEST, layout.INFO, layout.EVENTS, layout.CAPTURES,
            layout.CHECKPOINTS, layout.STATEMENT, layout.SIGNATURE, layout.PROOFS,
            layout.PUBLIC_KEY, "texts/1.txt", "texts/2.txt", "texts/3.txt"} == names
    # A stranger's machine: an empty home and working directory, no MONITOR_* at all.
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(demo.bundle, home / "b.zip")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    done = subprocess.run([sys.executable, "-m", "monitor", "verify-bundle", "b.zip"],
                          cwd=home, env={**env, "HOME": str(home)}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"bundle intact: {NAME}: versions 1-3, 5 events in an "
                                  "unbroken hash chain, 3 texts and 3 raw captures match")
    assert "NOTE: checked with the key inside the bundle" in done.stdout
    assert sorted(p.name for p in home.iterdir()) == ["b.zip"]  # nothing made on the way


def test_each_raw_capture_is_a_warc_record_with_its_digests_and_the_events_raw_hash(
    demo: Demo,
) -> None:
    found = members(demo.bundle)
    raw_hashes = [json.loads(line)["data"].get("raw_hash")
                  for line in found[layout.EVENTS].splitlines()]
    records = [(r.rec_type, r.rec_headers, r.raw_stream.read())
               for r in ArchiveIterator(io.BytesIO(found[layout.CAPTURES]))]
    assert [kind for kind, _, _ in records] == ["resource", "response", "request",
                                                "response", "request"]
    for kind, headers, payload in records:
        assert headers.protocol == "WARC/1.1"
        if kind == "request":
            assert "were not kept" in headers.get_header("Monitor-Reconstructed")
            continue
        digest = base64.b32encode(hashlib.sha1(payload).digest()).decode()
        assert headers.get_header("WARC-Payload-Digest") == f"sha1:{digest}"
        assert headers.get_header("Monitor-Raw-SHA256") == hashlib.sha256(payload).hexdigest()
        assert hashlib.sha256(payload).hexdigest() in raw_hashes
    assert b"145th session" in records[3][2] and b"144th session" in records[1][2]


def test_the_signature_checks_with_openssl_and_the_files_with_sha256sum(
    demo: Demo, tmp_path: Path
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed here")
    with zipfile.ZipFile(demo.bundle) as z:
        z.extractall(tmp_path)
    command = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "public_key.pem", "-rawin",
               "-in", layout.STATEMENT, "-sigfile", layout.SIGNATURE]
    good = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert good.returncode == 0 and "Signature Verified Successfully" in good.stdout, good
    assert "openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin" in \
        (tmp_path / layout.README).read_text()
    statement = tmp_path / layout.STATEMENT
    statement.write_bytes(re.sub(rb'"events":(\d+)', lambda m: b'"events":%d' % (
        int(m.group(1)) + 1), statement.read_bytes(), count=1))
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "Signature Verification Failure" in bad.stdout + bad.stderr
    if shutil.which("sha256sum"):
        sums = subprocess.run(["sha256sum", "-c", layout.MANIFEST], cwd=tmp_path,
                              capture_output=True, text=True, timeout=30)
        assert sums.returncode == 1 and f"{layout.STATEMENT}: FAILED" in sums.stdout
        assert "texts/3.txt: OK" in sums.stdout


def _payload_changed(body: bytes) -> bytes:
    """The WARC rewritten with one byte of the second capture's payload changed, its
    headers (digests included) kept as they were."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    for number, record in enumerate(ArchiveIterator(io.BytesIO(body))):
        payload = record.raw_stream.read()
        if number == 1:
            payload = payload.replace(b"144th", b"145th", 1)
        writer.write_record(writer.create_warc_record(
            "", record.rec_type, payload=io.BytesIO(payload), length=len(payload),
            warc_headers=record.rec_headers, http_headers=record.http_headers))
    return out.getvalue()


@pytest.mark.parametrize(("name", "change", "expected"), [
    (layout.CAPTURES, _payload_changed,
     "WARC-Payload-Digest is not its payload's (the captured bytes were changed)"),
    (layout.CAPTURES, _payload_changed, "the captured bytes are not those the log names"),
    ("texts/3.txt", flip(1000), "version 3: texts/3.txt is not the text its event names"),
    (layout.EVENTS, lambda b: b.replace(b"1 number changed", b"1 number chanced"),
     "event 5 (position 5): its content does not give its hash (type ChangeDetected)"),
    (layout.SIGNATURE, flip(7), f"{layout.SIGNATURE} is not the checkpoint's signature"),
    (layout.CHECKPOINTS, lambda b: re.sub(rb'"events": ?(\d+)', lambda m: b'"events":%d' % (
        int(m.group(1)) - 1), b, count=1),
     "the checkpoint's signature does not hold"),
    (layout.STATEMENT, flip(40), f"{layout.STATEMENT} is not the statement the checkpoint"),
])
def test_a_changed_byte_fails_the_check_naming_what_changed(
    demo: Demo, tmp_path: Path, name: str, change: Callable[[bytes], bytes], expected: str
) -> None:
    result = verify(altered(demo, tmp_path, name, change))
    assert result.code == 1, result.out
    assert "FAILED: " in result.out and expected in result.out, result.out
    assert "bundle intact" not in result.out


def test_a_byte_changed_in_the_packed_capture_file_fails_its_digest(
    demo: Demo, tmp_path: Path
) -> None:
    result = verify(altered(demo, tmp_path, layout.CAPTURES, flip(3000), fix_manifest=False))
    assert result.code == 1
    assert (f"FAILED: {layout.CAPTURES}: its sha256 is not the one {layout.MANIFEST} lists"
            in result.out), result.out


def test_an_event_rehashed_by_a_forger_is_not_in_the_signed_log(
    demo: Demo, tmp_path: Path
) -> None:
    from monitor.store.eventstore import chain_hash, hash_payload

    def rehash_last(body: bytes) -> bytes:
        lines = [json.loads(line) for line in body.splitlines()]
        last = lines[-1]
        last["data"]["summary"] = "nothing changed"
        last["hash"] = chain_hash(last["prev_hash"], hash_payload(
            last["event_id"], last["stream_id"], last["version"], last["type"],
            last["schema_version"], last["data"], datetime.fromisoformat(last["recorded_at"])))
        return b"".join(json.dumps(line).encode() + b"\n" for line in lines)

    result = verify(altered(demo, tmp_path, layout.EVENTS, rehash_last))
    assert result.code == 1
    assert ("FAILED: event 5 (position 5): not in the log the checkpoint signs (its "
            "inclusion proof does not lead to the signed root)") in result.out, result.out
    assert "does not give its hash" not in result.out


def test_a_key_obtained_elsewhere_is_checked_against_the_bundles(
    demo: Demo, tmp_path: Path
) -> None:
    shown = demo.run("keys", "--format", "json")
    (tmp_path / "monitor.pem").write_text(shown.json()["pem"])
    trusted = verify(demo.bundle, "--public-key", str(tmp_path / "monitor.pem"))
    assert trusted.code == 0, trusted.out
    assert "NOTE" not in trusted.out
    create_key(tmp_path / "keys" / "other")
    (tmp_path / "other.pem").write_text(load_signing_key(tmp_path / "keys" / "other").public.pem())
    forged = verify(demo.bundle, "--public-key", str(tmp_path / "other.pem"))
    assert forged.code == 1
    assert "is not the key you gave" in forged.out
    assert "the checkpoint's signature does not hold" in forged.out


def test_a_file_that_is_not_a_bundle_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "junk.zip").write_bytes(os.urandom(300))
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("hello.txt", "hi")
    (tmp_path / "half.zip").write_bytes(gzip.compress(b"x" * 100))
    for name, said in (("junk.zip", "not a bundle (not a readable zip file"),
                       ("other.zip", "not a govkz-monitor evidence bundle (no bundle.json)"),
                       ("half.zip", "not a bundle"), ("missing.zip", "no such file")):
        result = verify(tmp_path / name)
        assert result.code == 2, (name, result.out, result.err)
        assert result.err.count("\n") == 1 and said in result.err, (name, result.err)
        assert "Traceback" not in result.err


def test_from_and_to_choose_the_versions_and_the_run_of_events_between(
    demo: Demo, tmp_path: Path
) -> None:
    out = tmp_path / "v2.zip"
    made = demo.run("export", NAME, "--from", "2", "--to", "2", "--output", str(out))
    assert made.code == 0, made.err
    assert "no checkpoint covered" not in made.out  # the first export's still covers them
    found = members(out)
    assert sorted(n for n in found if n.startswith("texts/")) == ["texts/2.txt"]
    events = [json.loads(line) for line in found[layout.EVENTS].splitlines()]
    assert [(e["version"], e["type"]) for e in events] == [(3, "VersionCaptured")]
    checked = verify(out)
    assert checked.code == 0, checked.out
    assert "versions 2-2, 1 events" in checked.out
    assert "note: the events start at the stream's event 3" in checked.out
    for args, said in ((("--from", "3", "--to", "2"), "--from 3 comes after --to 2"),
                       (("--to", "9"), "--to 9: " + NAME + " has versions 1 to 3")):
        refused = demo.run("export", NAME, *args, "--output", str(tmp_path / "x.zip"))
        assert refused.code == 2 and said in refused.err, refused.err
        assert not (tmp_path / "x.zip").exists()


def test_export_without_a_covering_checkpoint_or_a_key_says_how_to_get_one(
    demo: Demo, tmp_path: Path
) -> None:
    result = demo.run("export", NAME, "--output", str(tmp_path / "b.zip"), url=demo.unkeyed)
    assert result.code == 2
    assert "no signed checkpoint covers these events (up to position 5) and there is no " \
           "key to sign one" in result.err and "run `monitor init`" in result.err
    assert not (tmp_path / "b.zip").exists()


def test_a_time_stamp_token_on_the_checkpoint_travels_in_the_bundle_and_is_checked(
    demo: Demo, tmp_path: Path
) -> None:
    # The checkpoint's witness line as a time-stamping monitor writes it: `tsa_token`,
    # the real answer (base64 DER) of a local RFC 3161 authority over the statement.
    from local_tsa import LocalTsa, make_ca

    from monitor.evidence.checkpoints import from_record
    from monitor.evidence.tsa import stamp

    store = tmp_path / "store"
    shutil.copytree(demo.db.parent, store)
    lines = (store / "witness.jsonl").read_text().splitlines()
    with LocalTsa(tmp_path / "tsa") as tsa:
        token = stamp(tsa.url, from_record(json.loads(lines[-1])).message())
    last = {**json.loads(lines[-1]), "tsa_token": token}
    (store / "witness.jsonl").write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    out = tmp_path / "stamped.zip"
    made = demo.run("export", NAME, "-o", str(out), url=f"sqlite:///{store / 'demo.db'}")
    assert made.code == 0, made.err
    found = members(out)
    assert found[layout.TSA_TOKEN] == base64.b64decode(token)
    assert json.loads(found[layout.CHECKPOINTS])["tsa_token"] == last["tsa_token"]
    assert b"openssl ts -verify" in found[layout.README]
    # Without the authority's certificates: what it stamps is checked, and a note says
    # its signature was not.
    checked = verify(out)
    assert checked.code == 0 and "RFC 3161 time-stamp token" in checked.out, checked.out
    # With them: the token's signature chains to the authority.
    signed = verify(out, "--tsa-ca", str(tsa.ca_file))
    assert signed.code == 0 and "not checked" not in signed.out, signed.out
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    make_ca(stranger, "Another root")
    forged = verify(out, "--tsa-ca", str(stranger / "ca.pem"))
    assert forged.code == 1 and "does not verify against the TSA certificates" in forged.out
    swapped = verify(_with_member(out, tmp_path, layout.TSA_TOKEN, b"other"))
    assert swapped.code == 1
    assert f"{layout.TSA_TOKEN} is not the checkpoint's tsa_token" in swapped.out


def _with_member(bundle: Path, tmp_path: Path, name: str, body: bytes) -> Path:
    found = members(bundle)
    found[name] = body
    found[layout.MANIFEST] = layout.manifest(
        {k: v for k, v in found.items() if k != layout.MANIFEST})
    out = tmp_path / "with-member.zip"
    with zipfile.ZipFile(out, "w") as z:
        for key, value in found.items():
            z.writestr(key, value)
    return out
