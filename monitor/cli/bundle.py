"""Evidence bundles: `monitor export` makes one, `monitor verify-bundle` checks one
anywhere, with no store and no configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.errors import IntegrityViolation
from monitor.untrusted import one_line


@cli.command("export")
@click.argument("source")
@click.option("--from", "first", type=click.IntRange(min=1), metavar="V",
              help="The first version to export (default: the first).")
@click.option("--to", "last", type=click.IntRange(min=1), metavar="V",
              help="The last version to export (default: the latest).")
@click.option("--output", "-o", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="The bundle to write (a zip file).")
@format_option
@pass_app
def export(app: AppContext, source: str, first: int | None, last: int | None, output: Path,
           fmt: str) -> None:
    """Write an evidence bundle of one source: its texts, raw captures (WARC),
    screenshots, events, a signed checkpoint covering them with inclusion proofs, the
    public key and a README.txt on checking it. Anyone can check it with `monitor verify-bundle`, or
    with sha256sum and openssl. Signs a checkpoint first when none covers the events."""
    from monitor.evidence.bundle.check import check_bundle
    from monitor.evidence.bundle.export import export_bundle
    from monitor.evidence.settings import evidence_settings

    settings = evidence_settings(app.config, app.url)
    made = export_bundle(app.store(), settings, source, first, last, output)
    checked = check_bundle(output)  # what was written, read back as a stranger would
    if not checked.intact:
        output.unlink(missing_ok=True)
        raise IntegrityViolation(f"the bundle did not pass its own check, so it was not kept: "
                                 f"{checked.problems[0]}")
    c = made.checkpoint
    if fmt == "json":
        echo_json({"bundle": str(output), "source": made.source,
                   "from_version": made.first_version, "to_version": made.last_version,
                   "events": made.events, "captures": made.captures,
                   "checkpoint_signed_now": made.signed_now, "checkpoint": c.record()})
        return
    if made.signed_now:
        click.echo(f"no checkpoint covered these events: signed one ({c.events} events up "
                   f"to position {c.position})")
    versions = ("no versions" if made.first_version is None else
                f"versions {made.first_version}-{made.last_version}")
    click.echo(f"bundle written: {output} ({made.source}: {versions}, {made.events} events, "
               f"{made.captures} raw captures; checkpoint of {c.time}, key {c.key_id})")
    click.echo(f"check it anywhere: monitor verify-bundle {output}")


@cli.command("verify-bundle")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--public-key", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False),
              help="The monitor's public key, obtained independently (PEM or base64, as "
                   "`monitor keys` prints it): without it, the bundle's own key is trusted.")
@click.option("--tsa-ca", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False),
              help="The time-stamp authority's certificates (PEM), to check the signature "
                   "of the checkpoint's RFC 3161 token.")
@format_option
def verify_bundle(bundle: Path, public_key: Path | None, tsa_ca: Path | None,
                  fmt: str) -> None:
    """Check an evidence bundle with nothing but itself: the digests of every file,
    each raw capture, text and screenshot against the hash its event names, the events' hash
    chain, each event's inclusion proof to the signed root, and the signature. Exit 1
    and name each failure. Needs no store and no configuration."""
    from monitor.evidence.bundle.check import check_bundle
    from monitor.evidence.keys import load_public_key

    key = load_public_key(public_key) if public_key is not None else None
    roots = None
    if tsa_ca is not None:
        from monitor.evidence.tsa import load_roots

        roots = load_roots(tsa_ca)
    report = check_bundle(bundle, key, roots)
    if fmt == "json":
        echo_json(_summary(report))
    elif report.intact:
        c = report.checkpoint
        assert c is not None  # no checkpoint is a problem
        versions = sorted(report.versions)
        span = f"versions {versions[0]}-{versions[-1]}" if versions else "no versions"
        kept = (f"{report.texts} texts and {report.captures} raw captures"
                if not report.screenshots else f"{report.texts} texts, {report.captures} raw "
                f"captures and {report.screenshots} screenshots")
        click.echo(f"bundle intact: {one_line(report.source)}: {span}, {report.events} "
                   f"events in an unbroken hash chain, {kept} match the hashes their "
                   "events name")
        click.echo(f"every event is in the log signed by key {report.key_id} on {c.time} "
                   f"({c.events} events up to position {c.position}, root {c.root[:16]}…)")
        for address, version in report.archive_copies:
            at = f" (version {version})" if version is not None else ""
            click.echo(f"public archive copy{at}: {one_line(address)}")
        if not report.independent_key:
            click.echo("NOTE: checked with the key inside the bundle; pass --public-key "
                       "FILE with the monitor's key obtained elsewhere to rule out a forger's")
    else:
        for problem in report.problems:
            click.echo(f"FAILED: {one_line(problem)}")
    if fmt != "json":
        for note in report.notes:
            click.echo(f"note: {note}")
    if not report.intact:
        raise click.exceptions.Exit(1)


def _summary(report: Any) -> dict[str, Any]:
    c = report.checkpoint
    return {"intact": report.intact, "source": report.source, "events": report.events,
            "versions": sorted(report.versions), "texts": report.texts,
            "captures": report.captures, "screenshots": report.screenshots,
            "key_id": report.key_id,
            "independent_key": report.independent_key, "tsa_token": report.tsa_token,
            "archive_copies": [{"archive_url": a, "version": v}
                               for a, v in report.archive_copies],
            "checkpoint": c.record() if c is not None else None,
            "problems": report.problems, "notes": report.notes}
