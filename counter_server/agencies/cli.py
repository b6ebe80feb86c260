"""`flask --app counter_server agency-standin`: serve the agencies' stand-in."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import make_server

from counter_server.agencies.demo_data import DEMO_DATA
from counter_server.agencies.faults import MAX_DELAY_MS, FaultPlan, parse_fault_option
from counter_server.agencies.signing import Signer
from counter_server.agencies.standin import Standin, create_standin


def _fault_plan(latency_ms: int | None, options: tuple[str, ...], seed: int,
                hang_seconds: float) -> dict:
    plan: dict = {"seed": seed, "hang_seconds": hang_seconds}
    if latency_ms is not None:
        plan["all"] = {"latency_ms": latency_ms}
    for option in options:
        try:
            parsed = parse_fault_option(option)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--fault") from None
        for scope, values in parsed.items():
            plan.setdefault(scope, {}).update(values)
    FaultPlan(plan)  # checked as a whole
    return plan


@click.command("agency-standin")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5077, show_default=True)
@click.option("--latency-ms", type=click.IntRange(0, MAX_DELAY_MS), default=None,
              help="Every agency's base latency (default: each its own, 40–300 ms); "
                   "20 for benchmarks.")
@click.option("--fault", "fault_options", multiple=True, metavar="KIND=NAME[:VALUE],…",
              help="Switch faults on from the start; KIND is a kind or 'all', NAME a rate "
                   "fault (timeout, error_5xx, rate_limited, malformed, wrong_schema, "
                   "bad_signature: VALUE 0–1, default 1) or latency_ms/slow_ms. Repeat.")
@click.option("--seed", type=int, default=0, show_default=True, help="Of the faults' RNG.")
@click.option("--hang-seconds", type=click.FloatRange(0, 3600), default=30.0,
              show_default=True, help="How long a 'timeout' fault hangs before answering.")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ed25519 private key (PEM) to sign with; a new one by default.")
@click.option("--token", default=None,
              help="The credential callers must present (default: MIZ_INQUIRY_TOKEN, else a "
                   "new one, printed).")
@click.option("--data", "data_path", type=click.Path(exists=True, path_type=Path),
              default=DEMO_DATA, help="The demo data set.")
@click.option("--log-requests", is_flag=True, help="Log every request (paths only).")
@with_appcontext
def agency_standin(host: str, port: int, latency_ms: int | None, fault_options: tuple[str, ...],
                   seed: int, hang_seconds: float, key_path: Path | None, token: str | None,
                   data_path: Path, log_requests: bool) -> None:
    """Serve a stand-in for the agencies Miz asks (threaded, for many calls at once)."""
    plan = _fault_plan(latency_ms, fault_options, seed, hang_seconds)
    given = token or current_app.config.get("INQUIRY_TOKEN")
    credential = str(given) if given else secrets.token_urlsafe(32)
    signer = Signer.from_pem_file(key_path) if key_path else Signer.generate()
    app = create_standin(data_path, signer, plan, token=credential)
    keys_file = Path(current_app.instance_path) / "agency-standin-keys.json"
    keys_file.write_text(json.dumps({"keys": signer.published()}, indent=2), encoding="utf-8")
    logging.getLogger("werkzeug").setLevel(logging.INFO if log_requests else logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    url = f"http://{host}:{server.socket.getsockname()[1]}"
    click.echo(f"Agencies' stand-in on {url} (signing key {signer.key_id})")
    click.echo(f"Public key: {url}/keys, and in {keys_file}")
    click.echo("Point Miz at it with:")
    click.echo(f"  MIZ_INQUIRY_URL={url} MIZ_INQUIRY_KEYS={keys_file} "
               f"MIZ_INQUIRY_TOKEN={'<as configured>' if given else credential}")
    state: Standin = app.extensions["miz.standin"]
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.closing.set()
        server.server_close()
