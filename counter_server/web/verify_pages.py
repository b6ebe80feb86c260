"""`/v/<id>`: anyone checks a delivered document — its facts, its state, and whether a PDF
in hand is byte for byte the one issued. Rate-limited like tracking; ids are unguessable."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from counter_server import clock
from counter_server.api.auth import is_kiosk_call
from counter_server.context import session
from counter_server.extensions import limiter
from counter_server.models import Deliverable
from counter_server.usecases import delivery
from counter_server.web import bp
from shared import jalali
from shared.seals import KIND_LABELS, STATE_LABELS, OutputKind

VERIFY_LIMIT = "60 per minute"
NOT_FOUND = "سندی با این شناسه صادر نشده است. نشانی را دوباره از رمزینه سند بخوانید."


def _deliverable(public_id: str) -> Deliverable:
    found = delivery.find(session(), public_id) if delivery.is_public_id(public_id) else None
    if found is None:
        abort(Response(render_template("verify.html", document=None, message=NOT_FOUND), 404))
    return found


def _page(document: Deliverable, check: str | None = None, status: int = 200
          ) -> tuple[str, int]:
    state = delivery.state(document, jalali.to_local(clock.now()).date())
    return render_template("verify.html", document=document, state=state,
                           state_label=STATE_LABELS[state],
                           kind_label=KIND_LABELS[OutputKind(document.kind)],
                           check=check), status


@bp.get("/v/<public_id>")
@limiter.limit(VERIFY_LIMIT, exempt_when=is_kiosk_call)
def verify_document(public_id: str) -> tuple[str, int]:
    return _page(_deliverable(public_id))


@bp.post("/v/<public_id>")
@limiter.limit(VERIFY_LIMIT, exempt_when=is_kiosk_call)
def verify_file(public_id: str) -> tuple[str, int]:
    document = _deliverable(public_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(document, "missing", 422)
    same = delivery.is_the_issued_file(document, upload.read())
    return _page(document, "same" if same else "different")
