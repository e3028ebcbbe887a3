"""`monitor verify-bundle FILE`: a bundle checked with nothing but itself (and, when
given, a public key obtained elsewhere). No store, no configuration.

What holds when it passes: the checkpoint was signed by the key; every event is in
the tree whose root it signs (an inclusion proof each); the events form an unbroken
hash chain, each hash recomputed from its content; each text's sha256 and each raw
capture's and screenshot's sha256 is the one its event names, and each WARC record's payload digest
is its payload's. So no byte of a text, a capture or an event can change without a
check failing, short of forging the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from monitor.errors import UsageError
from monitor.evidence import merkle
from monitor.evidence.bundle import layout, screens, warc
from monitor.evidence.checkpoints import Checkpoint, from_record
from monitor.evidence.keys import PublicKey
from monitor.store.eventstore import chain_hash, hash_payload
from monitor.store.mapper import canonical_json

MAX_PROBLEMS = 50
# What a bundle may unpack to, in all: a zip of a few MB can declare gigabytes of
# zeros (a zip bomb), and every member is read into memory. zipfile stops reading a
# member at the size its entry declares, so the declared sizes bound what is read.
MAX_UNPACKED = 1024 * 1024 * 1024
EVENT_FIELDS = ("position", "event_id", "stream_id", "version", "type", "schema_version",
                "data", "recorded_at", "prev_hash", "hash")


@dataclass
class BundleReport:
    source: str = ""
    events: int = 0
    versions: list[int] = field(default_factory=list)
    texts: int = 0
    captures: int = 0
    screenshots: int = 0
    checkpoint: Checkpoint | None = None
    key_id: str | None = None
    independent_key: bool = False
    tsa_token: bool = False
    # Public archive copies the signed events record: (archive address, version or None).
    archive_copies: list[tuple[str, int | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def check_bundle(path: Path, given_key: PublicKey | None = None,
                 tsa_roots: list[Any] | None = None) -> BundleReport:
    """The bundle's checks; UsageError (one line) when the file is not a bundle at all.
    `tsa_roots`: the time-stamp authority's certificates, to check a TSA token's
    signature (without them only what the token stamps is checked)."""
    members = _members(path)
    report = BundleReport()
    info = _info(path, members)
    report.source = str(info.get("source", ""))
    _check_manifest(members, report)
    events = _events(members, report)
    report.events = len(events)
    stream_id = str(info.get("stream_id", ""))
    _check_chain(events, stream_id, report)
    report.archive_copies = archive_copies(events)
    if report.source != stream_id:  # a source's name is its stream's id, which is signed
        report.problems.append(f"{layout.INFO} names the source {report.source!r}, but its "
                               f"events are of {stream_id!r}")
    checkpoint = _check_signature(members, given_key, report, tsa_roots)
    if checkpoint is not None:
        _check_proofs(members, events, checkpoint, report)
    by_position = {e["position"]: e for e in events}
    _check_texts(members, info, by_position, report)
    _check_captures(members, by_position, report)
    report.screenshots = screens.check(members, info, by_position, report.problems,
                                       report.notes)
    del report.problems[MAX_PROBLEMS:]
    return report


def _members(path: Path) -> dict[str, bytes]:
    if path.exists() and not path.is_file() and not path.is_dir():
        raise UsageError(f"{path}: not a regular file, so not a bundle")  # /dev/zero, a FIFO
    try:
        with zipfile.ZipFile(path) as bundle:
            names = bundle.namelist()
            unpacked = sum(entry.file_size for entry in bundle.infolist())
            if unpacked > MAX_UNPACKED:
                raise UsageError(f"{path}: not a usable bundle: its members unpack to "
                                 f"{unpacked:,} bytes, more than a bundle may "
                                 f"({MAX_UNPACKED:,}): a zip bomb or not a bundle")
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise UsageError(f"{path}: not a usable bundle: {', '.join(twice)} appear more "
                                 "than once in it")
            return {name: bundle.read(name) for name in names if not name.endswith("/")}
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: a directory, not a bundle file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
            NotImplementedError) as exc:
        raise UsageError(f"{path}: not a bundle (not a readable zip file: {exc})") from None


def _info(path: Path, members: dict[str, bytes]) -> dict[str, Any]:
    try:
        info = json.loads(members[layout.INFO])
    except KeyError:
        raise UsageError(f"{path}: not a govkz-monitor evidence bundle (no "
                         f"{layout.INFO})") from None
    except (ValueError, RecursionError):
        raise UsageError(f"{path}: not a usable bundle ({layout.INFO} is not JSON)") from None
    if not isinstance(info, dict) or info.get("format") not in layout.FORMATS:
        raise UsageError(f"{path}: not a govkz-monitor evidence bundle ({layout.INFO} does "
                         f"not say {layout.FORMAT!r} or {layout.FORMAT_V1!r})")
    return info


def _check_manifest(members: dict[str, bytes], report: BundleReport) -> None:
    if layout.MANIFEST not in members:
        report.problems.append(f"{layout.MANIFEST} is missing")
        return
    try:
        listed = layout.parse_manifest(members[layout.MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        report.problems.append(f"{layout.MANIFEST}: {exc}")
        return
    for name, body in sorted(members.items()):
        if name == layout.MANIFEST:
            continue
        digest = listed.get(name)
        if digest is None:
            report.problems.append(f"{name}: not listed in {layout.MANIFEST} (added afterwards)")
        elif hashlib.sha256(body).hexdigest() != digest:
            report.problems.append(f"{name}: its sha256 is not the one {layout.MANIFEST} "
                                   "lists (the file was changed)")
    for name in sorted(set(listed) - set(members)):
        report.problems.append(f"{name}: listed in {layout.MANIFEST} but missing")


def _events(members: dict[str, bytes], report: BundleReport) -> list[dict[str, Any]]:
    body = members.get(layout.EVENTS)
    if body is None:
        report.problems.append(f"{layout.EVENTS} is missing")
        return []
    events: list[dict[str, Any]] = []
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested past any event
            report.problems.append(f"{layout.EVENTS} line {number}: not JSON")
            continue
        if not isinstance(event, dict) or any(f not in event for f in EVENT_FIELDS) or \
                not isinstance(event["data"], dict) or not _is_int(event["position"]) or \
                not _is_int(event["version"]):
            report.problems.append(f"{layout.EVENTS} line {number}: not an event with "
                                   f"{', '.join(EVENT_FIELDS)}")
            continue
        events.append(event)
    return events


def archive_copies(events: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """The public archive copies recorded among `events` (ArchiveCopyRecorded)."""
    found: list[tuple[str, int | None]] = []
    for event in events:
        data = event.get("data")
        if event.get("type") != "ArchiveCopyRecorded" or not isinstance(data, dict):
            continue
        version = data.get("document_version")
        found.append((str(data.get("archive_url", "")),
                      version if isinstance(version, int) else None))
    return found


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_chain(events: list[dict[str, Any]], stream_id: str, report: BundleReport) -> None:
    previous: dict[str, Any] | None = None
    for event in events:
        where = f"event {event['version']} (position {event['position']})"
        if event["stream_id"] != stream_id:
            report.problems.append(f"{where}: of stream {event['stream_id']!r}, not of "
                                   f"{stream_id!r}")
        if previous is None:
            if event["version"] == 1 and event["prev_hash"] != "":
                report.problems.append(f"{where}: the stream's first event names a previous one")
            elif event["version"] != 1:
                report.notes.append(f"the events start at the stream's event "
                                    f"{event['version']}; those before are not in the bundle")
        elif event["version"] != previous["version"] + 1:
            report.problems.append(f"{where}: the event before it ({previous['version'] + 1}) "
                                   "is missing")
        elif event["prev_hash"] != previous["hash"]:
            report.problems.append(f"{where}: prev_hash is not the hash of the event before it")
        if _recomputed(event) != event["hash"]:
            report.problems.append(f"{where}: its content does not give its hash (type "
                                   f"{event['type']}): altered")
        previous = event


def _recomputed(event: dict[str, Any]) -> str | None:
    try:
        moment = datetime.fromisoformat(str(event["recorded_at"]))
        payload = hash_payload(str(event["event_id"]), str(event["stream_id"]),
                               event["version"], str(event["type"]),
                               event["schema_version"], event["data"], moment)
        return chain_hash(str(event["prev_hash"]), payload)
    except (TypeError, ValueError):
        return None


def _check_signature(members: dict[str, bytes], given: PublicKey | None,
                     report: BundleReport, tsa_roots: list[Any] | None) -> Checkpoint | None:
    try:
        lines = [json.loads(line) for line in members[layout.CHECKPOINTS].splitlines()
                 if line.strip()]
        record = lines[-1]
        checkpoint = from_record(record)
    except KeyError:
        report.problems.append(f"{layout.CHECKPOINTS} is missing")
        return None
    except (IndexError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        report.problems.append(f"{layout.CHECKPOINTS}: not a checkpoint ({exc})")
        return None
    report.checkpoint = checkpoint
    key = _bundle_key(members, report)
    if given is not None:
        report.independent_key = True
        if key is not None and key.raw != given.raw:
            report.problems.append(
                f"{layout.PUBLIC_KEY} (key {key.key_id}) is not the key you gave "
                f"({given.key_id}): the bundle was signed by someone else's key")
        key = given
    if key is None:
        return checkpoint
    report.key_id = key.key_id
    if checkpoint.key_id != key.key_id:
        report.problems.append(f"the checkpoint names key {checkpoint.key_id}, not "
                               f"{key.key_id}")
    if not checkpoint.signed_by(key):
        report.problems.append("the checkpoint's signature does not hold (the statement or "
                               "the signature was altered)")
    if members.get(layout.STATEMENT) != checkpoint.message():
        report.problems.append(f"{layout.STATEMENT} is not the statement the checkpoint "
                               "signs")
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if members.get(layout.SIGNATURE) != signature:
        report.problems.append(f"{layout.SIGNATURE} is not the checkpoint's signature")
    _check_tsa(members, record, checkpoint, report, tsa_roots)
    return checkpoint


def _bundle_key(members: dict[str, bytes], report: BundleReport) -> PublicKey | None:
    try:
        key = serialization.load_pem_public_key(members[layout.PUBLIC_KEY])
    except KeyError:
        report.problems.append(f"{layout.PUBLIC_KEY} is missing")
        return None
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        report.problems.append(f"{layout.PUBLIC_KEY} is not an Ed25519 public key in PEM")
        return None
    return PublicKey(key)


def _check_tsa(members: dict[str, bytes], record: dict[str, Any], checkpoint: Checkpoint,
               report: BundleReport, roots: list[Any] | None) -> None:
    from monitor.evidence.tsa import check_token

    token = record.get("tsa_token")
    if not token:
        return
    report.tsa_token = True
    try:
        der = base64.b64decode(str(token), validate=True)
    except (binascii.Error, ValueError):
        report.problems.append(f"{layout.CHECKPOINTS}: tsa_token is not base64")
        return
    if members.get(layout.TSA_TOKEN) != der:
        report.problems.append(f"{layout.TSA_TOKEN} is not the checkpoint's tsa_token")
    if problem := check_token(str(token), checkpoint.message(), roots):
        report.problems.append(f"the checkpoint: {problem}")
    elif roots is None:
        report.notes.append(f"the checkpoint carries an RFC 3161 time-stamp token "
                            f"({layout.TSA_TOKEN}) over its statement; its signature was "
                            "not checked: pass --tsa-ca FILE with the authority's "
                            "certificates, or see README.txt (`openssl ts -verify`)")


def _check_proofs(members: dict[str, bytes], events: list[dict[str, Any]],
                  checkpoint: Checkpoint, report: BundleReport) -> None:
    try:
        given = json.loads(members[layout.PROOFS])
        proofs = {int(p["position"]): p for p in given["proofs"]}
    except KeyError:
        report.problems.append(f"{layout.PROOFS} is missing or lacks its proofs")
        return
    except (ValueError, TypeError, RecursionError) as exc:
        report.problems.append(f"{layout.PROOFS}: not a list of proofs ({exc})")
        return
    root = bytes.fromhex(checkpoint.root)
    for event in events:
        where = f"event {event['version']} (position {event['position']})"
        if event["position"] > checkpoint.position:
            report.problems.append(f"{where}: after the checkpoint's position "
                                   f"{checkpoint.position}, so not covered by it")
            continue
        proof = proofs.get(event["position"])
        if proof is None:
            report.problems.append(f"{where}: no inclusion proof")
            continue
        try:
            path = [bytes.fromhex(h) for h in proof["path"]]
            index = int(proof["index"])
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"{where}: its inclusion proof is malformed")
            continue
        leaf = canonical_json({k: event[k] for k in ("position", "stream_id", "version",
                                                      "prev_hash", "hash")}).encode("utf-8")
        if not merkle.verify_inclusion(merkle.leaf_hash(leaf), index, checkpoint.events,
                                       path, root):
            report.problems.append(f"{where}: not in the log the checkpoint signs (its "
                                   "inclusion proof does not lead to the signed root)")


def _check_texts(members: dict[str, bytes], info: dict[str, Any],
                 by_position: dict[int, dict[str, Any]], report: BundleReport) -> None:
    found = info.get("versions")
    listed: list[Any] = found if isinstance(found, list) else []
    named: set[str] = set()
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        number, name = entry.get("version"), str(entry.get("text", ""))
        at = entry.get("event_position")
        event = by_position.get(at) if isinstance(at, int) else None
        if event is None or event["type"] not in layout.VERSION_TYPES:
            report.problems.append(f"version {number}: {layout.INFO} ties it to no version "
                                   f"event in {layout.EVENTS}")
            continue
        named.add(name)
        report.versions.append(number if isinstance(number, int) else 0)
        body = members.get(name)
        if body is None:
            report.problems.append(f"version {number}: its text {name} is missing")
        elif hashlib.sha256(body).hexdigest() != event["data"].get("content_hash"):
            report.problems.append(f"version {number}: {name} is not the text its event "
                                   "names (sha256 differs from content_hash)")
        else:
            report.texts += 1
    for event in by_position.values():
        if event["type"] in layout.VERSION_TYPES and not any(
                isinstance(e, dict) and e.get("event_position") == event["position"]
                for e in listed):
            report.problems.append(f"the version recorded at position {event['position']} "
                                   "has no text in the bundle")
    for name in sorted(n for n in members if n.startswith("texts/") and n not in named):
        report.problems.append(f"{name}: a text no event names")


def _check_captures(members: dict[str, bytes], by_position: dict[int, dict[str, Any]],
                    report: BundleReport) -> None:
    body = members.get(layout.CAPTURES)
    wanted = {p: str(e["data"]["raw_hash"]) for p, e in by_position.items()
              if e["type"] in layout.VERSION_TYPES and e["data"].get("raw_hash")}
    if body is None:
        if wanted:
            report.problems.append(f"{layout.CAPTURES} is missing")
        return
    seen: set[int] = set()
    try:
        for record in warc.read(body):
            if record.type not in ("response", "resource"):
                continue
            _check_record(record, wanted, seen, report)
    except ValueError as exc:
        report.problems.append(f"{layout.CAPTURES}: {exc}")
        return
    for position in sorted(set(wanted) - seen):
        report.problems.append(f"the raw capture of the version recorded at position "
                               f"{position} is not in {layout.CAPTURES}")


def _check_record(record: warc.ReadRecord, wanted: dict[int, str], seen: set[int],
                  report: BundleReport) -> None:
    where = f"{layout.CAPTURES} record {record.number} ({record.type})"
    try:
        position = int(record.headers.get(warc.EVENT_POSITION, ""))
    except ValueError:
        report.problems.append(f"{where}: names no event ({warc.EVENT_POSITION})")
        return
    where += f", position {position}"
    if record.headers.get("WARC-Payload-Digest") != warc.payload_digest(record.payload):
        report.problems.append(f"{where}: WARC-Payload-Digest is not its payload's (the "
                               "captured bytes were changed)")
    digest = hashlib.sha256(record.payload).hexdigest()
    if position not in wanted:
        report.problems.append(f"{where}: no version event in the bundle names it")
    elif digest != wanted[position]:
        report.problems.append(f"{where}: the captured bytes are not those the log names "
                               f"(sha256 {digest[:12]}, raw_hash {wanted[position][:12]})")
    else:
        seen.add(position)
        report.captures += 1
    if record.headers.get(warc.RAW_SHA256) != digest:
        report.problems.append(f"{where}: {warc.RAW_SHA256} is not its payload's sha256")
