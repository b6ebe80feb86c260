"""Command line: `flask --app counter_server COMMAND` — init-db, catalog, kiosk, user (create,
disable, enable, reset-password), counter, queue-rollover, keys, demo-seed and demo-code (the
worker is in `background`); each calls the same use cases as the views."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.orm import Session

from counter_server import background, demo, migrate
from counter_server.agencies.cli import agency_standin
from counter_server.context import database
from counter_server.delivery import keys
from counter_server.usecases import catalog_versions, delivery, kiosks, lobby_admin, staff
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
        result = catalog_versions.import_catalog(session, catalog, source=str(path))
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
            catalog = catalog_versions.export_catalog(session)
        except catalog_versions.NoCatalog:
            click.echo("No catalog has been imported yet.", err=True)
            sys.exit(1)
    write_catalog(catalog, path)
    click.echo(f"Wrote the catalog to {path}")


kiosk_cli = AppGroup("kiosk", help="Register, list and revoke lobby kiosks.")


@kiosk_cli.command("add")
@click.argument("name")
@click.option("--office", default=None, help="The office (slug) the kiosk stands in.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …, "token": "…"}.')
def kiosk_add(name: str, office: str | None, as_json: bool) -> None:
    """Register kiosk NAME; prints its issuer number and its secret token (shown once)."""
    try:
        with database().transaction() as session:
            registration = kiosks.register_kiosk(session, name, office)
            issuer = registration.kiosk.id
    except kiosks.KioskError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"id": issuer, "token": registration.token}))
        return
    click.echo(f"Kiosk {name!r} registered with issuer number {issuer:02d}.")
    click.echo(f"Token (put it in the kiosk's config; it is not shown again): {registration.token}")


@kiosk_cli.command("list")
def kiosk_list() -> None:
    """List registered kiosks."""
    with database().session() as session:
        for kiosk in kiosks.all_kiosks(session):
            state = f"revoked {kiosk.revoked_at:%Y-%m-%d}" if kiosk.revoked_at else "active"
            click.echo(f"{kiosk.id:02d}  {kiosk.name}  ({state})")


@kiosk_cli.command("revoke")
@click.argument("kiosk")
def kiosk_revoke(kiosk: str) -> None:
    """Revoke KIOSK (its number or name): its token stops working at once."""
    try:
        with database().transaction() as session:
            revoked = kiosks.revoke(session, kiosk)
            click.echo(f"Kiosk {revoked.id:02d} ({revoked.name}) revoked.")
    except kiosks.KioskError as exc:
        raise click.ClickException(str(exc)) from None


user_cli = AppGroup("user", help="Staff accounts.")


@user_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as shown on the desk.")
@click.option("--role", type=click.Choice([r.value for r in staff.Role]), required=True)
@click.option("--service", "services", multiple=True, help="A service slug (clerks); repeat.")
@click.password_option(help="Prompted for when not given.")
def user_create(username: str, full_name: str, role: str, services: tuple[str, ...],
                password: str) -> None:
    """Create a staff account."""
    try:
        with database().transaction() as session:
            staff.create_user(session, username, full_name, staff.Role(role), password,
                              list(services))
    except staff.StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"User {username!r} created as {role}.")


@user_cli.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable USERNAME: no more logins, and every open session of theirs ends now."""
    _change_user(lambda session: staff.set_active(session, username, False),
                 f"User {username!r} disabled; their sessions are ended.")


@user_cli.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Enable USERNAME again."""
    _change_user(lambda session: staff.set_active(session, username, True),
                 f"User {username!r} enabled.")


@user_cli.command("reset-password")
@click.argument("username")
@click.password_option(help="Prompted for when not given.")
def user_reset_password(username: str, password: str) -> None:
    """Give USERNAME a new password (lifts a lockout); every session of theirs ends."""
    _change_user(lambda session: staff.set_password(session, username, password),
                 f"Password of {username!r} changed; their sessions are ended.")


def _change_user(change: Callable[[Session], object], done: str) -> None:
    try:
        with database().transaction() as session:
            change(session)
    except staff.StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(done)


counter_cli = AppGroup("counter", help="Counters where staff serve walk-ins.")


@counter_cli.command("add")
@click.option("--office", required=True, help="Office slug.")
@click.option("--number", type=int, required=True, help="The number shown on the board.")
@click.option("--name", default=None, help="Defaults to «باجه <number>».")
@click.option("--queue", "queues", multiple=True, required=True, help="A queue slug; repeat.")
@click.option("--printer", default=None, help="host[:port] of a network ESC/POS printer.")
def counter_add(office: str, number: int, name: str | None, queues: tuple[str, ...],
                printer: str | None) -> None:
    """Add a counter that calls from the given queues."""
    try:
        with database().transaction() as session:
            counter = lobby_admin.add_counter(session, office, number, name, list(queues),
                                              printer)
            click.echo(f"Counter {counter.number} ({counter.name}) added to {office}.")
    except lobby_admin.LobbyAdminError as exc:
        raise click.ClickException(str(exc)) from None


@counter_cli.command("list")
def counter_list() -> None:
    """List counters and the queues they call from."""
    with database().session() as session:
        for counter in lobby_admin.all_counters(session):
            state = "" if counter.active else " (inactive)"
            click.echo(f"{counter.office_slug}  {counter.number:>3}  {counter.name}  "
                       f"[{', '.join(counter.queues)}]{state}")


@click.command("queue-rollover")
@with_appcontext
def queue_rollover() -> None:
    """Close earlier days' unserved tickets in every office (they are kept, not deleted)."""
    with database().transaction() as session:
        closed = lobby_admin.rollover(session)
    click.echo(f"{closed} unserved ticket(s) of earlier days closed.")


@click.command("demo-seed")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address the demo is served on (the Makefile's HOST).")
@click.option("--port", default=5000, show_default=True, help="Its port (the Makefile's PORT).")
@with_appcontext
def demo_seed(host: str, port: int) -> None:
    """Create the demo data once (staff, a kiosk, requests, a lobby, a delivered document,
    making the demo keys when missing); on every run print the tracking codes, the delivered
    documents' verification addresses, the kiosk's token and configuration, and the addresses
    to open."""
    server = demo.server_url(host, port)
    kiosk_config = Path(current_app.instance_path) / "kiosk-demo.toml"
    signing = delivery.Signing.from_config(current_app.config)
    with database().transaction() as session:
        catalog = catalog_versions.current_snapshot(session).catalog
        public_url = str(catalog.agency.public_base_url)
        keys.init_keys(signing.keys, catalog.agency.name, catalog.agency.short_name)
        seeded = demo.seed(session, current_app.extensions["miz.storage"], public_url, signing)
        requests = [(r.tracking_code, r.service_slug, r.status)
                    for r in demo.demo_requests(session)]
        documents = [(d.number, d.title, d.public_id) for d in demo.demo_deliverables(session)]
        kiosk = _demo_kiosk(session, seeded.kiosk_token or demo.token_in(kiosk_config))
    if seeded.created:
        click.echo("Demo data created:")
        for line in seeded.created:
            click.echo(f"  {line}")
    else:
        click.echo("Demo data already present.")
    click.echo("Demo requests (tracking code, service: status):")
    for code, slug, status in requests:
        click.echo(f"  request {code} ({slug}: {status})")
    click.echo("Demo delivered documents (number: where anyone verifies it):")
    for number, title, public_id in documents:
        click.echo(f"  document {number} ({title}): {server}/v/{public_id}")
    click.echo(f"Demo staff password: {demo.PASSWORD}  "
               f"(users: {', '.join(u.username for u in demo.USERS)})")
    for username, secret in demo.TOTP_SECRETS.items():
        click.echo(f"Demo second factor of {username}: authenticator key {secret} "
                   f"(or `flask --app counter_server demo-code {username}`)")
    if kiosk is None:
        click.echo("The demo kiosk is revoked or gone: register one with `kiosk add`.")
    else:
        demo.write_kiosk_config(kiosk_config, *kiosk, server)
        click.echo(f"Demo kiosk {kiosk[0]:02d}, token: {kiosk[1]}")
        click.echo(f"Demo kiosk configuration: {kiosk_config}")
    for name, address in demo.addresses(server):
        click.echo(f"{name + ':':<15}{address}")


@click.command("demo-code")
@click.argument("username", type=click.Choice(sorted(demo.TOTP_SECRETS)))
def demo_code(username: str) -> None:
    """Print the current second-factor code of a demo account (its key is published in
    counter_server/demo.py; real accounts' keys are never printed)."""
    click.echo(demo.second_factor_code(username))


def _demo_kiosk(session: Session, known_token: str | None) -> tuple[int, str] | None:
    """The demo kiosk's number and token (`known_token`, or a new one if that no longer
    works); None when the kiosk was revoked or is gone."""
    kiosk = demo.demo_kiosk(session)
    if kiosk is None or kiosk.revoked_at is not None:
        return None
    return kiosk.id, demo.kiosk_token(session, kiosk, known_token)


keys_cli = AppGroup("keys", help="The seal key and the agency's PDF signing key.")


@keys_cli.command("init")
@click.option("--agency", default=None,
              help="The agency's name on the demo certificate; the catalog's by default.")
def keys_init(agency: str | None) -> None:
    """Make the seal key and, for the demo, a signing key with a self-signed certificate
    (files readable by their owner only; an existing key is never replaced)."""
    settings = keys.KeySettings.from_config(current_app.config)
    short_name = None
    if agency is None:
        with database().session() as session:
            try:
                named = catalog_versions.current_snapshot(session).catalog.agency
            except catalog_versions.NoCatalog:
                raise click.ClickException("Import the catalog first (its agency section "
                                           "names the certificate), or give --agency.") from None
        agency, short_name = named.name, named.short_name
    written = keys.init_keys(settings, agency, short_name)
    for path in written:
        click.echo(f"Wrote {path}")
    if not written:
        click.echo("The keys are already there; nothing was changed.")


@keys_cli.command("public")
def keys_public() -> None:
    """Print the seal key's public key (PEM), for kiosks and verifiers."""
    try:
        click.echo(keys.seal_public_pem(keys.KeySettings.from_config(current_app.config)),
                   nl=False)
    except keys.KeysMissing as exc:
        raise click.ClickException(str(exc)) from None


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(kiosk_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(demo_seed)
    app.cli.add_command(demo_code)
    app.cli.add_command(counter_cli)
    app.cli.add_command(queue_rollover)
    app.cli.add_command(agency_standin)
    app.cli.add_command(keys_cli)
    background.init_app(app)
