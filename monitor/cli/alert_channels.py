"""`monitor alerts add/list/remove`: the alert channels of monitor.toml, from the
command line. A change is one `[[alerts]]` table; the rest of the file is kept as
it was, and nothing is written unless the result loads as every command loads it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from monitor.alerts.channel_tables import (
    built,
    described,
    env_name_problem,
    export_hint,
    option,
    refuse_secrets,
    relative_path,
    url_secret,
    variables,
)
from monitor.alerts.derive import human_duration
from monitor.cli.alerts import alerts
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.config import config_path, parse_config
from monitor.config_file import append_table, locked, parsed, remove_table, write_atomically
from monitor.errors import ConfigError, MonitorError, UsageError
from monitor.untrusted import one_line

# Deliveries that would still go out: a channel that is gone leaves them as they are.
WAITING = ("pending", "sending", "retrying", "confirming", "held")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _options(*options: Decorator) -> Decorator:
    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for decorate in reversed(options):
            command = decorate(command)
        return command
    return apply


def _refused(flag: str) -> Decorator:
    """An option that exists only to say where its secret goes instead."""
    return click.option(f"--{flag}", hidden=True)


# Keys every kind takes (monitor/alerts/policy.py, audience.py), in the table's order.
COMMON = ("sources", "min_significance", "events", "confirm", "language", "timezone", "digest")
common_options = _options(
    click.option("--sources", multiple=True, metavar="GLOB",
                 help="Only sources whose name matches (repeatable; default every source)."),
    click.option("--min-significance", metavar="LEVEL",
                 help="low | medium | high (default low)."),
    click.option("--events", multiple=True, metavar="KIND",
                 help="changed, reverted, published, removed, failing, checkpoint "
                      "(repeatable or comma-separated; default all but checkpoint)."),
    click.option("--confirm", metavar="DURATION",
                 help="Hold a change this long for a re-check before it alerts (e.g. 2m)."),
    click.option("--language", metavar="LANG", help="en | ru | kk (default [display] language)."),
    click.option("--timezone", metavar="ZONE", help="IANA name, e.g. Asia/Almaty."),
    click.option("--digest", metavar="PERIOD",
                 help="One message per period (e.g. 1h, 1d) instead of one per alert."),
    format_option,
    pass_app,
)


@alerts.group()
def add() -> None:
    """Add an alert channel: one [[alerts]] table at the end of monitor.toml (--config,
    $MONITOR_CONFIG or ./monitor.toml), its comments and layout kept. The table is
    checked as config load checks it, and nothing is written if it would not load.
    Secrets are never taken on the command line: name the environment variable that
    holds each (--password-env, --secret-env, --url-env)."""


@add.command()
@click.argument("name")
@click.option("--host", help="SMTP server (required).")
@click.option("--port", type=int, help="Default 25, 587 or 465 by --security.")
@click.option("--security", metavar="MODE", help="starttls (default) | ssl | none.")
@click.option("--from", "sender", metavar="ADDRESS", help="Sender address (required).")
@click.option("--to", multiple=True, metavar="ADDRESS", help="Recipient (required; repeatable).")
@click.option("--username-env", metavar="VAR",
              help="Environment variable holding the SMTP user name.")
@click.option("--password-env", metavar="VAR",
              help="Environment variable holding the SMTP password (with --username-env).")
@click.option("--timeout", metavar="DURATION", help="Wait for the server (default 30s).")
@click.option("--ca-bundle", metavar="FILE",
              help="PEM file of CAs to trust for the server beyond the system's.")
@click.option("--attach-screenshot", is_flag=True,
              help="Attach the new version's screenshot (PNG) to a change alert, when one "
                   "was taken.")
@_refused("password")
@_refused("username")
@common_options
def email(app: AppContext, name: str, fmt: str, password: str | None, username: str | None,
          to: tuple[str, ...], ca_bundle: str | None, **given: Any) -> None:
    """Send alerts as e-mail through an SMTP server."""
    refuse_secrets("email", {"password": password, "username": username})
    values = {"host": given.pop("host"), "port": given.pop("port"),
              "security": given.pop("security"), "from": given.pop("sender"),
              "to": to[0] if len(to) == 1 else list(to), "username_env": given.pop("username_env"),
              "password_env": given.pop("password_env"), "timeout": given.pop("timeout"),
              "ca_bundle": ca_bundle, "attach_screenshot": given.pop("attach_screenshot") or None}
    _add(app, name, "email", values, given, fmt, paths={"ca_bundle"})


@add.command()
@click.argument("name")
@click.option("--url", help="http(s) URL to POST to (one without a password or token in it).")
@click.option("--url-env", metavar="VAR",
              help="Environment variable holding the URL, when it carries a password or token.")
@click.option("--secret-env", metavar="VAR",
              help='Environment variable holding the signing secret, "whsec_" + base64 '
                   "(required).")
@click.option("--timeout", metavar="DURATION", help="Wait for the receiver (default 10s).")
@_refused("secret")
@common_options
def webhook(app: AppContext, name: str, fmt: str, url: str | None, secret: str | None,
            **given: Any) -> None:
    """POST alerts as JSON, signed per the Standard Webhooks convention."""
    refuse_secrets("webhook", {"secret": secret})
    if url is not None and (why := url_secret(url)):
        raise UsageError(f"--url: the URL {why}; it would stay in your shell history and "
                         "in the config file: put the whole URL in an environment variable "
                         "and name it with --url-env VAR")
    values = {"url": url, "url_env": given.pop("url_env"), "secret_env": given.pop("secret_env"),
              "timeout": given.pop("timeout")}
    _add(app, name, "webhook", values, given, fmt)


@add.command()
@click.argument("name")
@click.option("--url-env", metavar="VAR",
              help="Environment variable holding the Apprise URL (required: an Apprise URL "
                   "carries the service's token).")
@_refused("url")
@common_options
def apprise(app: AppContext, name: str, fmt: str, url: str | None, **given: Any) -> None:
    """Send alerts through Apprise (Telegram, Matrix, Slack, ntfy, … by URL)."""
    refuse_secrets("apprise", {"url": url})
    _add(app, name, "apprise", {"url_env": given.pop("url_env")}, given, fmt)


@add.command()
@click.argument("name")
@click.option("--access-key-env", metavar="VAR",
              help="Environment variable holding the archive.org S3 access key (required).")
@click.option("--secret-key-env", metavar="VAR",
              help="Environment variable holding its secret (required).")
@click.option("--api-url", metavar="URL", help="Save Page Now's address (default "
              "https://web.archive.org).")
@_refused("access-key")
@_refused("secret-key")
@common_options
def wayback(app: AppContext, name: str, fmt: str, access_key: str | None,
            secret_key: str | None, **given: Any) -> None:
    """Ask the Internet Archive to copy the page of every change."""
    refuse_secrets("wayback", {"access-key": access_key, "secret-key": secret_key})
    values = {"access_key_env": given.pop("access_key_env"),
              "secret_key_env": given.pop("secret_key_env"), "api_url": given.pop("api_url")}
    _add(app, name, "wayback", values, given, fmt)


def _add(app: AppContext, name: str, kind: str, own: dict[str, Any], common: dict[str, Any],
         fmt: str, paths: frozenset[str] | set[str] = frozenset()) -> None:
    path = _config_file(app)
    common["sources"] = list(common["sources"]) or None
    common["events"] = [e.strip() for item in common["events"] for e in item.split(",")
                        if e.strip()] or None
    table = {key: value for key, value in [*own.items(), *((k, common[k]) for k in COMMON)]
             if value is not None}
    for key, value in table.items():
        if key.endswith("_env") and (problem := env_name_problem(str(value))):
            raise UsageError(f"{option(key)}: {problem}")
    for key in ("api_url",):  # the other URLs are checked by their own commands
        if key in table and (why := url_secret(str(table[key]))):
            raise UsageError(f"{option(key)}: the URL {why}; nothing was written")
    with locked(path) as text:
        try:
            config = parse_config(text, path)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (fix that first: nothing was written)") from None
        for key in paths & set(table):
            table[key] = relative_path(table[key], config)
        channel = built(config, name, kind, table)
        result = append_table(text, path, "alerts", {"name": name, "kind": kind, **table})
        parse_config(result, path)  # the whole file, as the next command will load it
        write_atomically(path, result)
    needed = variables(channel)
    if fmt == "json":
        echo_json({"added": described(channel), "config": str(path)})
    else:
        click.echo(f"added {kind} channel {one_line(name)} to {path} "
                   f"({one_line(channel.channel.target)})")
        click.echo(f"try it: monitor alerts test {one_line(name)}  (a running `monitor run` "
                   "takes it on at its next start)")
    for variable in needed:
        if not variable.is_set:
            click.echo(f"warning: {variable.variable} is not set here; the channel reads it "
                       f"when it sends: {export_hint(variable)}", err=True)


@alerts.command("list")
@format_option
@pass_app
def list_channels(app: AppContext, fmt: str) -> None:
    """The configured alert channels: kind, where each sends (no secret in it), its
    filters, and the environment variables it needs, set or not in this shell."""
    from monitor.alerts.channels import routes

    channels = [described(route) for route in routes(app.config).values()]
    if fmt == "json":
        echo_json(channels)
        return
    if not channels:
        where = app.config.path or "no configuration file"
        click.echo(f"no alert channels ({where}); add one: monitor alerts add email|webhook|"
                   "apprise|wayback NAME …")
        return
    for found in channels:
        click.echo("  ".join(one_line(found[key]) for key in ("name", "kind", "target")))
        shown = [f"{key} {value}" for key, value in found["settings"].items()]
        shown += [f"sources {', '.join(found['sources'])}",
                  f"min_significance {found['min_significance']}",
                  f"events {', '.join(found['events'])}",
                  f"language {found['language']}", f"timezone {found['timezone']}"]
        if found["digest_seconds"]:
            shown.append("digest every "
                         + human_duration(timedelta(seconds=found["digest_seconds"])))
        click.echo("    " + "; ".join(one_line(part) for part in shown))
        if found["variables"]:
            needs = ", ".join(f"{one_line(v['variable'])} ({'set' if v['set'] else 'NOT SET'})"
                              for v in found["variables"])
            click.echo("    needs " + needs)


@alerts.command()
@click.argument("name")
@pass_app
def remove(app: AppContext, name: str) -> None:
    """Take the channel NAME out of monitor.toml; every other line stays as it was.
    Its deliveries still in the outbox are kept, unsent, until a channel of that
    name comes back."""
    path = _config_file(app)
    with locked(path) as text:
        tables = parsed(text, path).get("alerts", [])
        names = [t.get("name") if isinstance(t, dict) else None
                 for t in (tables if isinstance(tables, list) else [])]
        if name not in names:
            known = ", ".join(str(n) for n in names if isinstance(n, str)) or "none"
            raise UsageError(f"no alert channel named {name!r} in {path} (channels: {known})")
        try:
            parse_config(text, path)
            loaded = True
        except ConfigError:
            loaded = False  # taking out the table that breaks the file is allowed
        result = remove_table(text, path, "alerts", names.index(name))
        if loaded:
            parse_config(result, path)
        write_atomically(path, result)
    click.echo(f"removed channel {one_line(name)} from {path}")
    waiting = _waiting(app, name)
    if waiting:
        many = "deliveries to it wait" if waiting > 1 else "delivery to it waits"
        click.echo(f"{waiting} {many} in the outbox: nothing sends them while "
                   f"no channel is named {one_line(name)}; they go out if one is added again "
                   "under that name (`monitor alerts --channel NAME` lists them)")


def _waiting(app: AppContext, name: str) -> int:
    from monitor.alerts.outbox import listing

    try:
        return len(listing(app.store(read_only=True).engine, WAITING, name))
    except (MonitorError, SQLAlchemyError):
        return 0  # no store yet, or none reachable: nothing to say about it


def _config_file(app: AppContext) -> Path:
    path = config_path(app.config_path)
    if path is None:
        here = Path.cwd() / "monitor.toml"
        raise UsageError(f"no configuration file: none at {here}, no --config and no "
                         "$MONITOR_CONFIG (start one here with `touch monitor.toml`, or name "
                         "yours with --config FILE)")
    if not path.is_file():
        raise UsageError(f"{path}: no such configuration file (create it first, e.g. "
                         f"`touch {path}`)")
    return path
