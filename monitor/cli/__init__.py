"""The `monitor` command line: one line per error, an exit code, and --help everywhere."""

from __future__ import annotations

import importlib
import sys

import click

from monitor import __version__
from monitor.cli.context import AppContext
from monitor.errors import MonitorError
from monitor.untrusted import printable

EXIT_INTERNAL = 70

# Which module defines each command. A command's module is imported only when that
# command runs (or --help lists them all), so `monitor check` does not pay for the
# report templates, the cluster's broker or the SMTP server.
COMMAND_MODULES = {
    "init": "setup", "verify": "setup", "rebuild": "setup",
    "sources": "sources", "add": "sources", "pause": "sources", "resume": "sources",
    "remove": "sources", "kinds": "sources",
    "events": "log", "history": "log", "show": "log",
    "check": "checking", "learn": "checking",
    "run": "daemon", "report": "report", "diff": "report", "alerts": "alerts",
    "demo": "demo", "worker": "cluster", "status": "status",
    "keys": "evidence", "checkpoint": "evidence",
    "export": "bundle", "verify-bundle": "bundle",
    "serve": "web", "users": "web", "tokens": "web",
    "search": "search",
    "import": "importing", "backup": "backup", "restore": "backup",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(f"monitor.cli.{module}")
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", envvar="MONITOR_CONFIG",
              help="Configuration file (default: $MONITOR_CONFIG, then ./monitor.toml).")
@click.option("--database", "database_url", metavar="URL",
              help="Database URL; overrides the config and $MONITOR_DATABASE_URL.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="govkz-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None, debug: bool) -> None:
    """govkz-monitor: watch official documents, keep every version, say what changed."""
    ctx.obj = AppContext(config_path=config_path, database_url=database_url, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="monitor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except MonitorError as exc:
        if debug:
            raise
        click.echo(f"error: {printable(str(exc))}", err=True)  # it may quote a URL or a page
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        stored = _database_error(exc)
        if stored is not None:  # a driver error no layer below translated
            click.echo(f"error: {printable(str(stored))}", err=True)
            sys.exit(stored.exit_code)
        click.echo(f"internal error: {type(exc).__name__}: {printable(str(exc))} (rerun with "
                   "--debug for the traceback)", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)


def _database_error(exc: Exception) -> MonitorError | None:
    """The store's own error for a database driver's exception, else None."""
    if not type(exc).__module__.startswith(("sqlalchemy", "sqlite3", "psycopg")):
        return None  # the common case pays no import
    from monitor.store.faults import database_error, store_error

    return store_error(exc) if database_error(exc) else None
