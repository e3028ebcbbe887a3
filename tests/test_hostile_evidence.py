"""Hostile inputs to the evidence commands (export, verify-bundle, verify --witness) and
to durations in the config: each is refused in one line with a clear exit code, never
an internal error, and nothing stored is replaced."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest
from cli_helpers import monitor
from test_bundle import NAME, Demo, members

from monitor.errors import UsageError
from monitor.evidence.bundle import check, layout, warc
from monitor.evidence.bundle.check import check_bundle
from monitor.validation import parse_confirm, parse_duration

HUGE = 10 ** 400  # a TOML integer: tomllib reads it, no float holds it
HUGE_TEXT = "9" * 23  # past SQLite's integers


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return Demo(tmp_path_factory.mktemp("hostile-demo"))


def rezip(out: Path, found: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in found.items():
            z.writestr(name, body)
    return out


def test_export_never_replaces_the_store_or_its_key(demo: Demo) -> None:
    assert demo.exported.code == 0, demo.exported.err
    key = demo.db.parent / "keys" / "checkpoint.ed25519"
    for target in (demo.db, key):
        before = target.read_bytes()
        got = demo.run("export", NAME, "--output", str(target))
        assert got.code == 2, got.out + got.err
        assert "exists and is not a bundle" in got.err and "Traceback" not in got.err
        assert target.read_bytes() == before
    assert demo.run("verify").code == 0
    again = demo.run("export", NAME, "--output", str(demo.bundle))  # a bundle: replaced
    assert again.code == 0, again.err


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("texts/1.txt", b"\0" * (4 * 1024 * 1024))  # 4 MiB of zeros: ~4 KB
    assert bomb.stat().st_size < 64 * 1024
    monkeypatch.setattr(check, "MAX_UNPACKED", 1024 * 1024)
    with pytest.raises(UsageError, match=r"unpack to 4,194,304 bytes.*zip bomb"):
        check_bundle(bomb)


def test_a_gzip_bomb_in_the_captures_is_a_named_failure() -> None:
    body = io.BytesIO()
    writer = warc.WARCWriter(body, gzip=True)
    record = writer.create_warc_record("http://x/", "resource",
                                       payload=io.BytesIO(b"\0" * 300_000), length=300_000)
    writer.write_record(record)
    assert len(body.getvalue()) < 10_000
    with pytest.raises(ValueError, match="more than 100,000 bytes"):
        list(warc.read(body.getvalue(), limit=100_000))
    assert [r.payload for r in warc.read(body.getvalue(), limit=300_000)] == [b"\0" * 300_000]


@pytest.mark.parametrize("member", [layout.EVENTS, layout.INFO, layout.CHECKPOINTS,
                                    layout.PROOFS])
def test_json_nested_past_any_record_is_not_an_internal_error(demo: Demo, tmp_path: Path,
                                                               member: str) -> None:
    found = members(demo.bundle)
    found[member] = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    got = monitor("verify-bundle", str(rezip(tmp_path / "deep.zip", found)), cwd=tmp_path)
    assert got.code in (1, 2), got.err
    assert "internal error" not in got.err and "Traceback" not in got.err
    assert member in got.out + got.err


def test_a_raw_hash_that_is_not_text_is_a_named_failure(demo: Demo, tmp_path: Path) -> None:
    found = members(demo.bundle)
    events = [json.loads(line) for line in found[layout.EVENTS].splitlines()]
    for event in events:
        if event["data"].get("raw_hash"):
            event["data"]["raw_hash"] = 12345
    found[layout.EVENTS] = "".join(json.dumps(e) + "\n" for e in events).encode()
    got = monitor("verify-bundle", str(rezip(tmp_path / "rawint.zip", found)), cwd=tmp_path)
    assert got.code == 1, got.err
    assert "internal error" not in got.err
    assert "the captured bytes are not those the log names" in got.out


def test_a_witness_line_nested_past_any_record_is_named(demo: Demo, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    witness.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    got = demo.run("verify", "--witness", str(witness))
    assert got.code == 1, got.err
    assert "internal error" not in got.err
    assert "line 1: not a JSON line" in got.out


def test_an_integer_duration_past_any_float_is_too_long(tmp_path: Path) -> None:
    for parse in (parse_duration, parse_confirm):
        with pytest.raises(ValueError, match="too long"):
            parse(HUGE)
    config = tmp_path / "monitor.toml"
    config.write_text(f"[defaults]\nconfirm = {HUGE}\n")
    got = monitor("--config", str(config), "sources", cwd=tmp_path)
    assert got.code == 2
    assert "defaults.confirm" in got.err and "too long" in got.err
    assert "internal error" not in got.err



def test_show_raw_never_replaces_the_store(demo: Demo) -> None:
    before = demo.db.read_bytes()
    for spelled in (str(demo.db), os.path.relpath(demo.db, demo.root),
                    str(demo.db.parent / ".." / demo.db.parent.name / demo.db.name)):
        got = demo.run("show", f"{NAME}@2", "--raw", "--output", spelled)
        assert got.code == 2, got.out + got.err
        assert "is the store's database: not replaced" in got.err
    assert demo.db.read_bytes() == before
    assert demo.run("verify").code == 0


@pytest.mark.parametrize(("args", "said"), [
    (("show", f"{NAME}@{HUGE_TEXT}"), f"has no version {HUGE_TEXT}"),
    (("show", f"{NAME}@\u00b2"), "VERSION must be a number"),
    (("events", "--since-position", HUGE_TEXT), "is not in the range"),
    (("events", "--since-position", "-1"), "is not in the range"),
])
def test_numbers_past_the_store_or_in_other_digits_are_refused_in_one_line(
        demo: Demo, args: tuple[str, ...], said: str) -> None:
    got = demo.run(*args)
    assert got.code == 2, got.out + got.err
    assert said in got.err and "internal error" not in got.err


@pytest.mark.parametrize(("args", "said"), [
    (("verify", "--witness", "{fifo}"), "not a regular file, so not a witness file"),
    (("verify", "--public-key", "{fifo}"), "not a regular file, so not a public key"),
    (("verify-bundle", "{fifo}"), "not a regular file, so not a bundle"),
    (("verify-bundle", "{bundle}", "--public-key", "{fifo}"),
     "not a regular file, so not a public key"),
])
def test_a_pipe_or_device_given_as_a_file_is_refused_not_read_without_end(
        demo: Demo, tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    # /dev/zero used to be read into memory until the machine ran out (GBs in seconds);
    # a FIFO with no writer shows the same mistake as a hang, cut by the timeout.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    filled = [a.format(fifo=fifo, bundle=demo.bundle) for a in args]
    got = monitor("--database", demo.url, *filled, cwd=tmp_path, own_process=True, timeout=30)
    assert got.code == 2, got.out + got.err
    assert said in got.err


def test_a_checkpoint_key_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    from monitor.errors import ConfigError
    from monitor.evidence.keys import load_signing_key

    fifo = tmp_path / "key"
    os.mkfifo(fifo, 0o600)
    # A writer, so that a regression that opens the FIFO fails instead of hanging.
    writer = threading.Thread(target=lambda: fifo.write_bytes(b"garbage"), daemon=True)
    writer.start()
    try:
        with pytest.raises(ConfigError, match="not a regular file"):
            load_signing_key(fifo)
    finally:
        if writer.is_alive():  # nobody opened it: let the writer's open return
            with open(fifo, "rb") as drain:
                drain.read()
        writer.join(timeout=5)
