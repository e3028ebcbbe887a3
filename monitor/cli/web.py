"""`monitor serve`, `monitor users …`, `monitor tokens …`: the web app and its accounts."""

from __future__ import annotations

import sys

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.config import listen_problem
from monitor.errors import UsageError
from monitor.moments import human
from monitor.web.accounts.roles import ROLES, WHAT


@cli.command()
@click.option("--listen", metavar="HOST:PORT",
              help="Where to serve (default: [web] listen, else 127.0.0.1:8080).")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes serving at once; all share the store (use PostgreSQL for more "
                   "than one machine).")
@pass_app
def serve(app: AppContext, listen: str | None, processes: int) -> None:
    """Serve the web app alone, without checking anything (the daemon, `monitor run`,
    serves it too). Stateless: run as many as wanted against one PostgreSQL."""
    from monitor.web.server import announce, base_url, bind, environment_for, serve_forever

    if listen is not None and listen_problem(listen):
        raise UsageError(f"--listen: {listen_problem(listen)}")
    store = app.store()
    sock = bind(listen or app.config.web_listen)
    environment_for(str(app.config.path) if app.config.path else None, app.url)
    announce(app.config, store, base_url(sock), click.echo)
    store.engine.dispose()
    serve_forever(sock, processes)


@cli.group()
def users() -> None:
    """People who sign in to the web app, and their roles."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="; ".join(f"{r}: {w}" for r, w in WHAT.items()))
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (else it is asked for twice).")
@click.option("--no-password", is_flag=True, help="No password: the user works with tokens only.")
@pass_app
def users_add(app: AppContext, name: str, role: str, password_stdin: bool,
              no_password: bool) -> None:
    """Add a user who signs in as NAME."""
    from monitor.web.accounts.users import add_user

    password: str | None
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    user = add_user(app.store().engine, name, role, password)
    click.echo(f"added {user.name} ({user.role})")


@users.command("list")
@format_option
@pass_app
def users_list(app: AppContext, fmt: str) -> None:
    """Every user, with role and when added."""
    from monitor.web.accounts.users import list_users

    found = list_users(app.store(read_only=True).engine)
    if fmt == "json":
        echo_json([{"name": u.name, "role": u.role, "password": u.has_password,
                    "created_at": u.created_at} for u in found])
        return
    if not found:
        click.echo("no users (the daemon prints a link that creates the first admin)")
    zone = app.config.display_timezone
    for u in found:
        tail = "" if u.has_password else "\ttokens only"
        click.echo(f"{u.name}\t{u.role}\t{human(u.created_at, zone)}{tail}")


@users.command("remove")
@click.argument("name")
@pass_app
def users_remove(app: AppContext, name: str) -> None:
    """Remove a user: their tokens are revoked and their sessions end."""
    from monitor.web.accounts.users import remove_user

    remove_user(app.store().engine, name)
    click.echo(f"removed {name}")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_app
def users_password(app: AppContext, name: str, password_stdin: bool) -> None:
    """Set NAME's password; their open sessions end."""
    from monitor.web.accounts.users import set_password

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else \
        click.prompt("password", hide_input=True, confirmation_prompt=True)
    set_password(app.store().engine, name, password)
    click.echo(f"password of {name} set")


@cli.group()
def tokens() -> None:
    """API tokens: each acts as its user, with that user's role."""


@tokens.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts as.")
@click.option("--label", default="", help="What the token is for (shown in lists).")
@pass_app
def tokens_create(app: AppContext, user_name: str, label: str) -> None:
    """Make a token and print it. It is shown this once: only its hash is kept."""
    from monitor.web.accounts.tokens import create_token

    token_id, token = create_token(app.store().engine, user_name, label)
    click.echo(token)
    click.echo(f"token {token_id} for {user_name}: shown once; send it as "
               "'Authorization: Bearer TOKEN'", err=True)


@tokens.command("list")
@click.option("--user", "user_name", help="Only this user's tokens.")
@format_option
@pass_app
def tokens_list(app: AppContext, user_name: str | None, fmt: str) -> None:
    """Tokens (never the tokens themselves): id, user, label, last used, revoked."""
    from monitor.web.accounts.tokens import list_tokens

    found = list_tokens(app.store(read_only=True).engine, user_name)
    if fmt == "json":
        echo_json([t.__dict__ for t in found])
        return
    zone = app.config.display_timezone
    for t in found:
        state = f"revoked {human(t.revoked_at, zone)}" if t.revoked_at else (
            f"used {human(t.last_used_at, zone)}" if t.last_used_at else "never used")
        click.echo(f"{t.id}\t{t.user}\t{t.label or '-'}\t{state}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@pass_app
def tokens_revoke(app: AppContext, token_id: int) -> None:
    """Revoke token ID at once."""
    from monitor.web.accounts.tokens import revoke_token

    revoke_token(app.store().engine, token_id)
    click.echo(f"revoked token {token_id}")
