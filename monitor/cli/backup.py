"""backup and restore: a consistent copy of the store, and an empty store filled from one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.errors import ConfigError, MonitorError, UsageError
from monitor.evidence.keys import load_signing_key
from monitor.evidence.settings import EvidenceSettings, evidence_settings
from monitor.store.database import describe
from monitor.untrusted import one_line


@cli.command()
@click.option("--output", "-o", required=True, metavar="FILE",
              type=click.Path(path_type=Path, dir_okay=False),
              help="The backup file to write (never replaced if it exists).")
@click.option("--kind", type=click.Choice(["sqlite", "logical"]), default=None,
              help="sqlite: SQLite's online backup of the database file (the default for a "
                   "SQLite store); logical: every copied table as compressed JSON lines, "
                   "read in one snapshot (the default for PostgreSQL; restores into either).")
@click.option("--with-keys", is_flag=True,
              help="Put the private checkpoint key into the backup too (keep the file "
                   "as secret as the key).")
@format_option
@pass_app
def backup(app: AppContext, output: Path, kind: str | None, with_keys: bool, fmt: str) -> None:
    """Write a consistent copy of the store to FILE while checks go on: the log, the
    check ledger, blobs, accounts, the alert outbox and the page keys, never the
    projections (a restore rebuilds them). The witness file goes with it; the private
    checkpoint key only with --with-keys."""
    from monitor.backup.write import write_backup

    app.refuse_store_file(output)
    store = app.store(read_only=True)
    kind = kind or ("sqlite" if store.engine.dialect.name == "sqlite" else "logical")
    settings = evidence_settings(app.config, app.url)
    if with_keys and not settings.key_file.exists():
        raise UsageError(f"--with-keys: there is no checkpoint key at {settings.key_file}")
    try:
        written = write_backup(
            store.engine, output, kind, key_file=settings.key_file if with_keys else None,
            witness_file=settings.witness_file if settings.witness_file.is_file() else None,
            key_id=_key_id(settings))
    except OSError as exc:  # a full disk, a folder we may not write in
        raise MonitorError(f"cannot write the backup {output}: {exc.strerror or exc}") from None
    manifest = written.manifest
    head = manifest["head"] or {"position": 0}
    result: dict[str, Any] = {
        "file": str(output), "kind": kind, "database": describe(app.url),
        "schema": manifest["schema"], "events": manifest["tables"]["events"]["rows"],
        "head_position": head["position"], "bytes": output.stat().st_size,
        "rows": {name: t["rows"] for name, t in manifest["tables"].items()},
        "files": sorted(manifest["files"]), "key_id": manifest["key_id"],
    }
    if fmt == "json":
        echo_json(result)
        return
    click.echo(f"backup written: {output} ({kind}, {result['bytes']:,} bytes): "
               f"{result['events']} events up to position {result['head_position']}, "
               f"schema {result['schema']}")
    if with_keys:
        click.echo("the private checkpoint key is in it: keep the file as secret as the key")
    elif manifest["key_id"]:
        click.echo(f"the checkpoint key is not in it: keep a copy of {settings.key_file} "
                   "(or back up again with --with-keys)")


def _key_id(settings: EvidenceSettings) -> str | None:
    if not settings.key_file.exists():
        return None
    try:
        return load_signing_key(settings.key_file).public.key_id
    except ConfigError:
        return None


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--log-only", is_flag=True,
              help="Restore the log, blobs and check ledger alone; leave out accounts, "
                   "the alert outbox and the page keys.")
@format_option
@pass_app
def restore(app: AppContext, file: Path, log_only: bool, fmt: str) -> None:
    """Fill an empty store (the configured one, or --database URL) from a backup FILE:
    the schema, then the copied tables, then the projections rebuilt from the log, in one
    transaction. The whole file is checked first, its rows and the log's hash chains as
    they load; a damaged or altered one, one from a newer schema, or a store that is not
    empty is refused with nothing written."""
    from monitor.backup import KEY_MEMBER, WITNESS_MEMBER
    from monitor.backup.read import open_backup
    from monitor.backup.restore import restore as load

    settings = evidence_settings(app.config, app.url)
    with open_backup(file) as opened:
        manifest = opened.manifest
        key, witness = opened.files.get(KEY_MEMBER), opened.files.get(WITNESS_MEMBER)
        _refuse_other_files(settings, manifest.get("key_id"), witness)
        # The files are written beside their places before the store is, so a place that
        # cannot take them (a file in the way, no permission) is refused with nothing
        # written; after the commit they are only linked into place.
        staged: list[_Staged] = []
        try:
            if key is not None and not settings.key_file.exists():
                staged.append(_Staged.write(settings.key_file, key, 0o600, KEY_MEMBER))
            if witness is not None and not settings.witness_file.exists():
                staged.append(_Staged.write(settings.witness_file, witness, 0o644,
                                            WITNESS_MEMBER))
            restored = load(opened, app.store(check_schema=False).engine, log_only=log_only)
        except BaseException:
            for one in reversed(staged):
                one.discard()
            raise
    placed, lost = [], []
    for one in staged:
        try:
            one.publish()
            placed.append(str(one.path))
        except OSError as exc:
            lost.append(f"{one.path} could not be written ({exc.strerror or exc}): it is "
                        f"{one.member} in the backup: `tar -xOf {file} {one.member} > "
                        f"{one.path}`" + (f" and `chmod 600 {one.path}`"
                                          if one.mode == 0o600 else ""))
    head = manifest["head"] or {"position": 0}
    missing_key = bool(manifest.get("key_id")) and not settings.key_file.exists()
    if fmt == "json":
        echo_json({"file": str(file), "database": describe(app.url), "schema": manifest["schema"],
                   "rows": restored.rows, "replayed": restored.replayed,
                   "head_position": head["position"], "files": placed,
                   "key_missing": missing_key})
        if lost:
            raise MonitorError("the store was restored, but " + "; and ".join(lost))
        return
    click.echo(f"restored into {describe(app.url)}: {restored.replayed} events up to position "
               f"{head['position']}, {sum(restored.rows.values())} rows in "
               f"{len(restored.rows)} tables; projections rebuilt from the log")
    for path in placed:
        click.echo(f"written: {path}")
    if log_only:
        click.echo("the log alone: no accounts, alert outbox or page keys were restored")
    if missing_key:
        click.echo(f"the checkpoint key (id {manifest['key_id']}) was not in the backup: copy "
                   f"it to {settings.key_file} before `monitor init` or the daemon makes a "
                   "new one")
    click.echo("next: `monitor verify`")
    if lost:
        raise MonitorError("the store was restored, but " + "; and ".join(lost))


def _refuse_other_files(settings: EvidenceSettings, key_id: str | None,
                        witness: bytes | None) -> None:
    """A key or witness file already at the target that is not the backup's would make
    `verify` fail after the restore: refused before anything is written."""
    for path in (settings.key_file, settings.witness_file):
        if path.exists() and not path.is_file():
            raise UsageError(f"{path} is in the way (not a file): move it away first "
                             "(nothing was written)")
    if settings.key_file.exists() and key_id is not None:
        there = _key_id(settings)
        if there != key_id:
            raise UsageError(
                f"{settings.key_file} holds checkpoint key {there}, but the backup's "
                f"checkpoints are signed by {key_id}: move that file away first (nothing "
                "was written)")
    if witness is not None and settings.witness_file.exists() and \
            settings.witness_file.read_bytes() != witness:
        raise UsageError(f"{settings.witness_file} exists and is not the backup's witness "
                         "file: move it away first (nothing was written)")


class _Staged:
    """A file restored beside its place under a temporary name, linked into place after
    the store's commit (never over a file that appeared meanwhile)."""

    def __init__(self, path: Path, temporary: Path, made: list[Path], member: str,
                 mode: int) -> None:
        self.path, self.temporary, self.made, self.member, self.mode = (
            path, temporary, made, member, mode)

    @classmethod
    def write(cls, path: Path, body: bytes, mode: int, member: str) -> _Staged:
        made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
        temporary = path.with_name(f".{path.name}.restoring-{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True,
                              mode=0o700 if mode == 0o600 else 0o755)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            staged = cls(path, temporary, made, member, mode)
            staged.discard()
            where = one_line(str(exc.filename), 120) if exc.filename else str(path)
            why = (f"a file is in the way at {where}"
                   if isinstance(exc, FileExistsError | NotADirectoryError)
                   else f"{exc.strerror or exc} ({where})")
            raise UsageError(f"cannot write {path}: {why}; nothing was written") from None
        return cls(path, temporary, made, member, mode)

    def publish(self) -> None:
        try:
            os.link(self.temporary, self.path)
        finally:
            self.temporary.unlink(missing_ok=True)

    def discard(self) -> None:
        try:
            self.temporary.unlink(missing_ok=True)
        except OSError:
            return  # never made (a file where its folder goes)
        for folder in self.made:  # innermost first: only the folders this restore made
            try:
                folder.rmdir()
            except OSError:
                break
