"""`monitor export NAME`: the bundle of one document's record, made from the store.

The events exported are a run of the document's stream: from the event that recorded
version --from (the stream's start when it is 1 or not given) to the last event
before version --to + 1 (the stream's end when --to is the latest or not given), so
the hash chain can be recomputed across the whole run.

A bundle proves its events with a signed checkpoint that covers them. The latest
checkpoint in the store is used when it does; when none does (events recorded since),
export signs one first, as `monitor checkpoint` does (recorded in the log and the
witness file), and refuses with a clear line when there is no key to sign with.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import IntegrityViolation, UsageError
from monitor.evidence import checkpoints, merkle, witness
from monitor.evidence.bundle import layout, readme, screens
from monitor.evidence.bundle.check import archive_copies
from monitor.evidence.bundle.warc import Capture
from monitor.evidence.bundle.warc import write as write_warc
from monitor.evidence.checkpoints import Checkpoint, from_record, leaf, leaf_rows
from monitor.evidence.keys import load_signing_key
from monitor.evidence.settings import EvidenceSettings
from monitor.moments import utc_iso
from monitor.store import EventStore
from monitor.store.mapper import StoredEvent, canonical_json
from monitor.store.queries import get_source
from monitor.store.snapshots import get_blob


@dataclass(frozen=True)
class Exported:
    path: Path
    source: str
    first_version: int | None
    last_version: int | None
    events: int
    captures: int
    checkpoint: Checkpoint
    signed_now: bool  # the checkpoint was signed by this export


def export_bundle(store: EventStore, settings: EvidenceSettings, name: str,
                  first: int | None, last: int | None, output: Path) -> Exported:
    _check_output(output)  # before anything is signed into the log
    source = get_source(store.engine, name)
    stream = store.read_stream(source.stream_id)
    chosen, numbers = _select(name, stream, first, last)
    checkpoint, record, signed_now = _covering(store, settings, chosen[-1].position)
    proofs = _proofs(store, checkpoint, [e.position for e in chosen])
    versions, texts, captures = _contents(store, chosen, numbers, source.url)
    info: dict[str, Any] = {
        "format": layout.FORMAT, "source": source.name, "stream_id": source.stream_id,
        "url": source.url, "exported_at": utc_iso(store.clock()),
        "from_version": min(numbers.values(), default=None),
        "to_version": max(numbers.values(), default=None),
        "stream_versions": [chosen[0].version, chosen[-1].version],
        "versions": versions,
        "checkpoint": {**checkpoint.statement()},
        # For the reader; the signed record of each copy is its event in events.jsonl.
        "archive_copies": [{"archive_url": url, "version": version} for url, version
                           in archive_copies([event_line(e) for e in chosen])],
    }
    members = {
        layout.INFO: _json(info),
        layout.EVENTS: "".join(canonical_json(event_line(e)) + "\n"
                               for e in chosen).encode("utf-8"),
        layout.CHECKPOINTS: (canonical_json(record) + "\n").encode("utf-8"),
        layout.STATEMENT: checkpoint.message(),
        layout.SIGNATURE: base64.b64decode(checkpoint.signature),
        layout.PROOFS: _json(proofs),
        layout.PUBLIC_KEY: _public_pem(store, settings, checkpoint).encode("ascii"),
        **texts,
    }
    if record.get("tsa_token"):
        members[layout.TSA_TOKEN] = base64.b64decode(str(record["tsa_token"]))
    warc = io.BytesIO()
    write_warc(warc, captures)
    members[layout.CAPTURES] = warc.getvalue()
    members[layout.README] = readme.text(info, layout.TSA_TOKEN in members).encode("utf-8")
    members[layout.MANIFEST] = layout.manifest(members)
    _write_zip(output, members)
    return Exported(output, source.name, info["from_version"], info["to_version"],
                    len(chosen), len(captures), checkpoint, signed_now)


def event_line(event: StoredEvent) -> dict[str, Any]:
    """An event as stored, with every field its hash covers, the moment as hashed."""
    return {"position": event.position, "event_id": event.event_id,
            "stream_id": event.stream_id, "version": event.version, "type": event.type,
            "schema_version": event.schema_version, "data": event.data,
            "recorded_at": event.recorded_at.isoformat(timespec="microseconds"),
            "prev_hash": event.prev_hash, "hash": event.hash}


def _select(name: str, stream: list[StoredEvent], first: int | None,
            last: int | None) -> tuple[list[StoredEvent], dict[int, int]]:
    """The run of events to export, and each version event's document version by position."""
    if not stream:
        raise UsageError(f"{name} has no events")
    starts = [i for i, e in enumerate(stream) if e.type in layout.VERSION_TYPES]
    count = len(starts)
    if not count:
        if first is not None or last is not None:
            raise UsageError(f"{name} has no stored version to choose from")
        return stream, {}
    low, high = first or 1, last or count
    for flag, value in (("--from", first), ("--to", last)):
        if value is not None and not 1 <= value <= count:
            raise UsageError(f"{flag} {value}: {name} has versions 1 to {count}")
    if low > high:
        raise UsageError(f"--from {low} comes after --to {high}")
    begin = starts[low - 1] if low > 1 else 0
    end = starts[high] if high < count else len(stream)
    chosen = stream[begin:end]
    numbers = {stream[i].position: n for n, i in enumerate(starts, start=1) if low <= n <= high}
    return chosen, numbers


def _covering(store: EventStore, settings: EvidenceSettings,
              position: int) -> tuple[Checkpoint, dict[str, Any], bool]:
    """The latest checkpoint with its record as stored, when it covers `position`;
    else one signed now."""
    latest: tuple[Checkpoint, dict[str, Any]] | None = None
    for event in store.read_stream(checkpoints.STREAM):
        try:
            found = from_record(event.data)
        except ValueError:
            continue  # `monitor verify` names it
        if latest is None or found.events > latest[0].events:
            latest = (found, dict(event.data))
    if latest is not None and latest[0].position >= position:
        return latest[0], _with_token(settings, *latest), False
    if not settings.key_file.exists():
        raise UsageError(f"no signed checkpoint covers these events (up to position "
                         f"{position}) and there is no key to sign one ({settings.key_file}): "
                         "run `monitor init` to make the key, then export again")
    taken = checkpoints.take(store, load_signing_key(settings.key_file), settings)
    return taken, _with_token(settings, taken, taken.record()), True


def _with_token(settings: EvidenceSettings, checkpoint: Checkpoint,
                record: dict[str, Any]) -> dict[str, Any]:
    """The record, with the RFC 3161 token (`tsa_token`) the witness line has for this
    checkpoint when the store's record has none."""
    if record.get("tsa_token") or not settings.witness_file.exists():
        return record
    for line in witness.read(settings.witness_file):
        got = line.record
        if got and got.get("tsa_token") and got.get("position") == checkpoint.position \
                and got.get("root") == checkpoint.root:
            return {**record, "tsa_token": got["tsa_token"]}
    return record


def _proofs(store: EventStore, checkpoint: Checkpoint, positions: list[int]) -> dict[str, Any]:
    with store.engine.connect() as conn:
        covered = itertools.takewhile(lambda r: r.position <= checkpoint.position,
                                      leaf_rows(conn))
        rows = [(row.position, merkle.leaf_hash(leaf(row))) for row in covered]
    hashed = [h for _, h in rows]
    if len(hashed) != checkpoint.events or merkle.root(hashed).hex() != checkpoint.root:
        raise IntegrityViolation(
            f"the log no longer matches the checkpoint of {checkpoint.time} (position "
            f"{checkpoint.position}): no bundle is made; run `monitor verify` to see what "
            "changed")
    index = {position: i for i, (position, _) in enumerate(rows)}
    paths = merkle.inclusion_proofs(hashed, [index[p] for p in positions])
    return {"tree_size": checkpoint.events, "root": checkpoint.root,
            "leaf": "sha256(0x00 || canonical JSON of position, stream_id, version, "
                    "prev_hash, hash)",
            "proofs": [{"position": p, "index": index[p],
                        "path": [h.hex() for h in paths[index[p]]]} for p in positions]}


def _contents(store: EventStore, chosen: list[StoredEvent], numbers: dict[int, int],
              url: str) -> tuple[list[dict[str, Any]], dict[str, bytes], list[Capture]]:
    versions: list[dict[str, Any]] = []
    texts: dict[str, bytes] = {}
    captures: list[Capture] = []
    with store.engine.connect() as conn:
        for event in chosen:
            number = numbers.get(event.position)
            if number is None:
                continue
            data = event.data
            texts[layout.text_name(number)] = get_blob(conn, data["content_hash"])
            raw_hash = data.get("raw_hash")
            versions.append({"version": number, "event_position": event.position,
                             "type": event.type, "content_hash": data["content_hash"],
                             "text": layout.text_name(number), "raw_hash": raw_hash,
                             "screenshot": screens.export(conn, number, data, texts)})
            if raw_hash:
                captures.append(Capture(
                    raw=get_blob(conn, raw_hash), event_id=event.event_id,
                    position=event.position, stream_id=event.stream_id, version=number,
                    recorded_at=event.recorded_at, data=data,
                    baseline=event.type == "BaselineImported", source_url=url))
    return versions, texts, captures


def _public_pem(store: EventStore, settings: EvidenceSettings, checkpoint: Checkpoint) -> str:
    if not settings.key_file.exists():
        raise UsageError(f"the checkpoint key ({settings.key_file}) is not here, so its public "
                         "half cannot go into the bundle")
    public = load_signing_key(settings.key_file).public
    if public.key_id != checkpoint.key_id:
        raise UsageError(f"the latest checkpoint was signed by key {checkpoint.key_id}, not by "
                         f"this store's key ({public.key_id}): sign a new one with "
                         "`monitor checkpoint`, then export again")
    return public.pem()


def _check_output(output: Path) -> None:
    """A bundle replaces only a bundle: `-o var/monitor.db` (or the key file, the
    witness file, a config) must not swap the store's own files for a zip."""
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: no folder {output.parent}")
    if output.exists() and not (output.is_file() and zipfile.is_zipfile(output)):
        raise UsageError(f"{output} exists and is not a bundle: not replaced (choose "
                         "another name, or remove it first)")


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _write_zip(output: Path, members: dict[str, bytes]) -> None:
    partial = output.with_name(output.name + ".partial")
    first = (layout.README, layout.MANIFEST, layout.INFO)
    order = [*first, *sorted(set(members) - set(first))]
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name in order:
                stored = name == layout.CAPTURES or name.endswith(".png")  # compressed
                bundle.writestr(name, members[name],
                                zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
