"""Command line: `flask --app counter_server init-db | catalog import PATH | catalog export PATH`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from counter_server import migrate
from counter_server.context import database
from counter_server.services import catalog as catalog_service
from shared.catalog.loader import CatalogError, load_catalog, write_catalog

catalog_cli = AppGroup("catalog", help="Import and export the service catalog.")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    migrate.upgrade(database())
    click.echo(f"Database ready: {database().engine.url.render_as_string(hide_password=True)}")


@catalog_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    """Validate the catalog at PATH (a YAML file or a directory) and publish it.

    On any problem nothing changes: every problem is listed and the exit status is 1.
    """
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        click.echo(f"The catalog has {len(exc.problems)} problem(s); nothing was imported:",
                   err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    with database().transaction() as session:
        result = catalog_service.import_catalog(session, catalog, source=str(path))
    if not result.published:
        click.echo(f"No change: the catalog equals version {result.version}.")
        return
    click.echo(f"Published catalog version {result.version}: "
               f"{len(result.added)} added, {len(result.changed)} changed, "
               f"{len(result.withdrawn)} withdrawn.")
    for slug in result.withdrawn:
        click.echo(f"  withdrawn: {slug}")


@catalog_cli.command("export")
@click.argument("path", type=click.Path(path_type=Path))
def export_command(path: Path) -> None:
    """Write the current catalog to PATH: one file if it ends in .yaml, else a directory."""
    with database().session() as session:
        try:
            catalog = catalog_service.export_catalog(session)
        except catalog_service.NoCatalog:
            click.echo("No catalog has been imported yet.", err=True)
            sys.exit(1)
    write_catalog(catalog, path)
    click.echo(f"Wrote the catalog to {path}")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(catalog_cli)
