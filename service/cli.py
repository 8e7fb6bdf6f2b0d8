"""``placecode serve`` and ``placecode admin``: parse arguments, call the library."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from . import admin as admin_
from . import logs
from .staff import ROLES


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--build-every",
    type=click.IntRange(min=0),
    default=None,
    help="Minutes between bundle builds; 0 for none (default: "
    "PLACECODE_BUILD_INTERVAL_MINUTES, 60).",
)
def serve(host: str, port: int, build_every: int | None) -> None:
    """Run the exposure service. For production use gunicorn (see the README)."""
    from werkzeug.serving import make_server

    from . import create_app

    logs.configure()
    settings = admin_.settings()
    admin_.check(settings)
    app = create_app(settings)
    interval = settings.build_interval_minutes if build_every is None else build_every
    stop = threading.Event()
    if interval:
        threading.Thread(target=_build_on_schedule, args=(interval * 60, stop), daemon=True).start()
    server = make_server(host, port, app, threaded=True, request_handler=logs.QuietRequestHandler)
    click.echo(f"placecode service on http://{host}:{server.server_port}/ (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


def _build_on_schedule(seconds: float, stop: threading.Event) -> None:
    settings = admin_.settings()
    while not stop.wait(seconds):
        try:
            built = admin_.build_bundles(settings)
        except Exception as e:  # a failed build must not end the schedule
            logs.log.warning("scheduled bundle build failed: %s", e)
            continue
        if built is not None:
            logs.log.info("published bundle %d (%d entries)", built.sequence, built.entries)


@click.group()
def admin() -> None:
    """Administer the exposure service (settings from the environment)."""


@admin.command()
def init() -> None:
    """Create or migrate the schema; write authority keys if there are none."""
    done = admin_.init(admin_.settings())
    if done.keys_written:
        click.echo(f"wrote authority keys to {done.key_dir}")
        click.echo(
            f"move {done.key_dir / 'sealing.key'} offline: the service never needs it, "
            "and the authority opens consent messages and venue traces with it"
        )
    else:
        click.echo(f"authority keys already in {done.key_dir}")
    click.echo(f"authority key id {done.key_id}: venue owners and visitors check it with you")
    click.echo(
        f"public keys for venue owners: {done.public_file} "
        "(placecode venue confirm --authority FILE)"
    )
    click.echo("database schema is up to date")


@admin.command("create-token")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--label", default="", help="A note for whom the token is.")
def create_token(role: str, label: str) -> None:
    """Create a staff API token; it is shown once and stored only hashed."""
    click.echo(admin_.create_token(admin_.settings(), role, label))


@admin.command("build-bundles")
@click.option("--force", is_flag=True, help="Publish whatever waits, topped up with decoys.")
def build_bundles(force: bool) -> None:
    """Publish the next bundle if one is due."""
    built = admin_.build_bundles(admin_.settings(), force=force)
    if built is None and force:
        click.echo("nothing to publish: no entry or revocation waits")
    elif built is None:
        click.echo("no bundle due")
    else:
        click.echo(
            f"published bundle {built.sequence}: {built.entries} entries, {built.size} bytes"
        )


@admin.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write the bundles, their index, the configuration and the web client as static
    files."""
    settings = admin_.settings()
    count = admin_.export(settings, directory)
    click.echo(f"exported {count} bundles to {directory}")
    if admin_.web_client_built(settings):
        click.echo(f"and the web client: serve {directory}/C as text/html, at the check-in path")
    else:
        click.echo("the web client is not built (run `make install`): not exported", err=True)


@admin.command()
def purge() -> None:
    """Delete everything past the retention period."""
    removed = admin_.purge(admin_.settings())
    click.echo(", ".join(f"{name}: {n}" for name, n in removed.items()))


@admin.command()
def stats() -> None:
    """What waits, what is published, what is held."""
    for name, value in admin_.stats(admin_.settings()).items():
        click.echo(f"{name}: {value}")
