"""Commands of the evidence anyone can check: keys, checkpoint."""

from __future__ import annotations

import base64

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.evidence import checkpoints, tsa
from monitor.evidence.keys import load_signing_key
from monitor.evidence.settings import evidence_settings
from monitor.moments import human


@cli.command()
@format_option
@pass_app
def keys(app: AppContext, fmt: str) -> None:
    """Show the public key that signs checkpoints: give it to whoever keeps a witness,
    and `monitor verify --public-key FILE` checks with it (the private key never leaves
    its file)."""
    settings = evidence_settings(app.config, app.url)
    public = load_signing_key(settings.key_file).public
    raw = base64.b64encode(public.raw).decode("ascii")
    if fmt == "json":
        echo_json({"key_file": str(settings.key_file), "key_id": public.key_id,
                   "fingerprint": public.fingerprint, "public_key_base64": raw,
                   "public_key_hex": public.raw.hex(), "pem": public.pem()})
        return
    click.echo(f"checkpoint key: {settings.key_file} (id {public.key_id})")
    click.echo(f"fingerprint: {public.fingerprint}")
    click.echo(f"public key (raw, base64): {raw}")
    click.echo(public.pem(), nl=False)


@cli.command()
@format_option
@pass_app
def checkpoint(app: AppContext, fmt: str) -> None:
    """Sign the Merkle root of the whole log now; record it in the log and the witness
    file. Refused when the log no longer matches the previous checkpoint."""
    settings = evidence_settings(app.config, app.url)
    key = load_signing_key(settings.key_file)
    taken = checkpoints.take(app.store(), key, settings)
    if settings.tsa_url and taken.tsa_token is None:
        click.echo(f"WARNING: checkpoint made without a timestamp: {settings.tsa_url} gave "
                   "no token (the next checkpoint asks again)", err=True)
    if fmt == "json":
        echo_json({**taken.record(), "witness_file": str(settings.witness_file)})
        return
    click.echo(f"checkpoint signed: {taken.events} events up to position {taken.position}, "
               f"root {taken.root[:16]}…, key {taken.key_id}")
    click.echo(f"witness: {settings.witness_file}")
    stamped = tsa.stamp_time(taken.tsa_token) if taken.tsa_token is not None else None
    if stamped is not None:
        click.echo(f"timestamp: {settings.tsa_url} stamped it at "
                   f"{human(stamped, app.config.display_timezone)}")
