"""The ``placecode`` command: one subcommand group per role.

Subcommands are imported only when used, so ``placecode --version`` and a
visitor's commands never load the service or its database driver.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import version

import click

from placecode.crypto import Error

#: subcommand -> ("module:attribute" of its click command, help, the extra it needs)
COMMANDS = {
    "serve": (
        "placecode.service.cli:serve",
        "Run the exposure service (health authority).",
        "service",
    ),
    "admin": ("placecode.service.cli:admin", "Administer the exposure service.", "service"),
    "venue": (
        "placecode.clients.venue_cli:venue",
        "Venue owners: posters, screens, confirmations.",
        "clients",
    ),
    "visit": (
        "placecode.clients.visitor_cli:visit",
        "Visitors: check in, sync, report, contact.",
        "clients",
    ),
    "authority": (
        "placecode.clients.authority_cli:authority",
        "Health authorities: keys, TANs, inbox.",
        "clients",
    ),
    "simulate": (
        "placecode.clients.simulate_cli:simulate",
        "Simulate the protocol at population scale.",
        "research",
    ),
    "demo": (
        "placecode.clients.demo:demo",
        "Run the end-to-end scenario on the embedded database.",
        "clients,service",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _, extra = COMMANDS[cmd_name]
        module, _, attr = target.partition(":")
        try:
            command = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name is None or e.name.partition(".")[0] == "placecode":
                raise
            raise click.ClickException(
                f"'placecode {cmd_name}' needs {e.name}, which this installation lacks: "
                f"pip install 'placecode[{extra}]'"
            ) from None
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup)
@click.version_option(version("placecode"), prog_name="placecode")
def cli() -> None:
    """placecode: privacy-preserving venue check-in and exposure matching."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit code. Errors become messages, never tracebacks."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except Error as e:
        click.echo(f"error: {e}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
