"""What-if experiment (bench only, never used by the app): the Miz app with the proposed fixes
of the tracking read applied by monkeypatching, to measure what each would buy.

    MIZ_WHATIF=all .venv/bin/python bench/track_bench.py --wsgi 'whatif_app:create_app()' ...
    MIZ_WHATIF=snapshot,events ...                       (a subset, to attribute the gains)

Fixes (each one a suggestion in bench/RESULTS.md):
  snapshot  `current_snapshot` checks the latest version at most once a second per process
            (today: one query per call, two on the HTML page)
  events    `find_by_code` loads the request and its events in one query (joined eager load)
  kiosk     a kiosk token is looked up once a minute per process, not on every call
  noping    no pool pre-ping (a `SELECT 1` round trip before every request's first query)
  autocommit  (PostgreSQL) read-only sessions in autocommit: no BEGIN / ROLLBACK round trips
  lean      GET /api/v1/track/<code> reads only what the public view shows, in one Core query
            (request columns LEFT JOIN events LEFT JOIN documents), no ORM entity, no `fields`
            JSON; same limiter, same public_view, same JSON
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import common  # noqa: F401  (puts the app on sys.path)
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from counter_server import create_app as create_miz_app
from counter_server.models import CatalogVersion, Kiosk, ServiceRequest
from counter_server.usecases import catalog_versions, kiosks, service_requests

ALL = ("snapshot", "events", "kiosk", "noping", "autocommit", "lean", "gc")


def _fixes() -> set[str]:
    wanted = os.environ.get("MIZ_WHATIF", "all")
    fixes = set(ALL) if wanted == "all" else {f for f in wanted.split(",") if f}
    unknown = fixes - set(ALL)
    if unknown:
        raise SystemExit(f"MIZ_WHATIF: unknown fixes {sorted(unknown)}; known: {ALL}")
    return fixes


def _patch_snapshot() -> None:
    original = catalog_versions.current_snapshot
    lock = threading.Lock()
    state: dict[str, Any] = {"at": 0.0, "snapshot": None}

    def current_snapshot(session: Session) -> catalog_versions.Snapshot:
        now = time.monotonic()
        if state["snapshot"] is None or now - state["at"] > 1.0:
            snapshot = original(session)
            with lock:
                state["at"], state["snapshot"] = now, snapshot
        return state["snapshot"]

    catalog_versions.current_snapshot = current_snapshot


def _patch_events() -> None:
    def find_by_code(session: Session, code: str, with_history: bool = False
                     ) -> ServiceRequest | None:  # always with its events
        statement = (select(ServiceRequest).options(joinedload(ServiceRequest.events))
                     .where(ServiceRequest.tracking_code == code))
        return session.scalars(statement).unique().first()

    service_requests.find_by_code = find_by_code  # type: ignore[assignment,unused-ignore]


def _patch_kiosk() -> None:
    original = kiosks.authenticate
    cache: dict[str, tuple[float, Kiosk | None]] = {}

    def authenticate(session: Session, token: str) -> Kiosk | None:
        now = time.monotonic()
        hit = cache.get(token)
        if hit is None or now - hit[0] > 60:
            kiosk = original(session, token)
            if kiosk is not None:
                session.expunge(kiosk)
            hit = cache[token] = (now, kiosk)
        return hit[1]

    kiosks.authenticate = authenticate


def _lean_track(app: Flask) -> None:
    from types import SimpleNamespace

    from counter_server.api.auth import is_kiosk_call
    from counter_server.api.errors import ApiError
    from counter_server.api.requests import TRACK_LIMIT
    from counter_server.context import session
    from counter_server.extensions import limiter
    from counter_server.models import RequestDocument, RequestEvent
    from counter_server.usecases import public_tracking
    from shared import tracking_codes

    r, e, d = ServiceRequest, RequestEvent, RequestDocument
    columns = (r.id, r.tracking_code, r.service_slug, r.catalog_version, r.channel, r.status,
               r.current_step, r.due_date, r.created_at, r.updated_at, r.decision_reason,
               e.id.label("event_id"), e.at, e.action, e.step, e.public_note,
               d.id.label("document_id"), d.slot, d.replaced)
    query = (select(*columns).select_from(r)
             .outerjoin(e, e.request_id == r.id).outerjoin(d, d.request_id == r.id))

    @limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
    def lean_track(code: str) -> dict[str, Any]:
        try:
            normalized = tracking_codes.normalize(code)
        except tracking_codes.InvalidCode as exc:
            raise ApiError(400, exc.code, exc.message) from None
        db = session()
        rows = db.execute(query.where(r.tracking_code == normalized)).all()
        if not rows:
            raise ApiError(404, "request_not_found", "درخواستی با این کد رهگیری پیدا نشد.")
        first = rows[0]
        events = {x.event_id: SimpleNamespace(action=x.action, at=x.at, step=x.step,
                                              public_note=x.public_note)
                  for x in rows if x.event_id is not None}
        documents = {x.document_id: SimpleNamespace(slot=x.slot, replaced=x.replaced)
                     for x in rows if x.document_id is not None}
        item = SimpleNamespace(
            **{c: getattr(first, c) for c in (
                "tracking_code", "service_slug", "channel", "status", "current_step",
                "due_date", "created_at", "updated_at", "decision_reason")},
            events=[events[k] for k in sorted(events)],
            documents=[documents[k] for k in sorted(documents)],
            service=db.get(CatalogVersion, first.catalog_version).service_terms(first.service_slug))
        snapshot = catalog_versions.current_snapshot(db)
        return public_tracking.public_view(item, snapshot).as_json()  # type: ignore[arg-type]

    app.view_functions["api.track"] = lean_track


def create_app(config: dict[str, Any] | None = None) -> Flask:
    fixes = _fixes()
    for fix, patch in (("snapshot", _patch_snapshot),
                       ("events", _patch_events), ("kiosk", _patch_kiosk)):
        if fix in fixes:
            patch()
    app = create_miz_app(config)
    db = app.extensions["miz.db"]
    if "noping" in fixes:
        db.engine.pool._pre_ping = False
    if "autocommit" in fixes and db.dialect == "postgresql":
        db._reads = sessionmaker(db.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                 expire_on_commit=False)
    if "lean" in fixes:
        _lean_track(app)
    if "gc" in fixes:
        import gc

        from counter_server.context import close_session, session

        with app.app_context():
            catalog_versions.current_snapshot(session())
            close_session()
        gc.collect()
        gc.freeze()
    app.logger.warning("what-if fixes applied: %s", ",".join(sorted(fixes)))
    return app
