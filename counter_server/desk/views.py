"""The staff desk: the inbox, one request, actions on it, documents, walk-ins, the outbox."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.clock import now
from counter_server.context import public_url, session, unit_of_work
from counter_server.db import utcnow
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.models import (
    Deliverable,
    Notification,
    RequestDocument,
    ServiceRequest,
    User,
)
from counter_server import background
from counter_server.usecases import (
    audit,
    catalog_versions,
    delivery,
    documents,
    inquiries,
    kiosk_status,
    kiosks,
    walk_in_queue,
)
from counter_server.usecases import notifications as notifications_usecase
from counter_server.usecases.inbox import open_inbox, read_filters
from counter_server.usecases.staff import (
    OFFICE_STAFF,
    ROLE_LABELS,
    Role,
    services_visible_to,
)
from counter_server.usecases.public_tracking import public_view
from counter_server.usecases.workflow import (
    ActionRefused,
    StaffAction,
    attach_at_counter,
    check_access,
    perform,
)
from counter_server.web.forms import (
    PostedForm,
    file_request,
    new_client_id,
    read_form,
    read_uploads,
)
from shared import jalali, tracking_codes
from shared.catalog.schema import Channel
from shared.catalog.schema import ServiceSpec
from shared.forms import APPLICANT_FIELDS, display_value
from shared.text import normalize, persian_sort_key
from shared.workflow import RULES, STATUS_LABELS, Action, Status, allowed_actions

WORKERS = (Role.clerk, Role.supervisor, Role.admin)
MAX_ASKED = 50  # documents one ask may name; a service lists far fewer


@bp.app_context_processor
def _desk_globals() -> dict[str, Any]:
    return {"ROLE_LABELS": ROLE_LABELS, "STATUS_LABELS": STATUS_LABELS, "Status": Status}


@bp.get("/")
@login_required
def inbox() -> str | Response:
    if current_user.role == Role.receptionist:
        return redirect(url_for("desk.walk_in"))
    if current_user.role == Role.editor:
        return redirect(url_for("desk.catalog_home"))
    filters = read_filters(request.args)
    page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 1
    snapshot = catalog_versions.current_snapshot(session())
    today = snapshot.calendar.local_date(utcnow())
    found = open_inbox(session(), current_user, filters, today, page)
    scope = services_visible_to(current_user)
    services = [s for s in snapshot.catalog.services if s.slug in scope]
    fleet = []
    if current_user.role in (Role.supervisor, Role.admin):
        silent = timedelta(minutes=current_app.config["KIOSK_SILENT_MINUTES"])
        fleet = kiosk_status.alerts(kiosks.all_kiosks(session()), now(), silent)
    return render_template("desk/inbox.html", items=found.items, filters=filters,
                           kiosk_alerts=fleet,
                           services=services, total=found.total, page=found.page,
                           pages=found.pages, today=today, calendar=snapshot.calendar,
                           channels=list(Channel))


def _request_for(code: str) -> ServiceRequest:
    try:
        normalized = tracking_codes.normalize(code)
    except tracking_codes.InvalidCode:
        abort(404)
    item = session().scalar(select(ServiceRequest)
                            .where(ServiceRequest.tracking_code == normalized))
    if item is None:
        abort(404)
    try:
        check_access(current_user, item)
    except ActionRefused:
        abort(403)
    return item


@bp.get("/requests/<code>")
@roles_required(*WORKERS)
def request_detail(code: str) -> str:
    item = _request_for(code)
    audit.record(session(), current_user, "request.personal_data_viewed", item,
                 address=request.remote_addr)
    session().commit()
    return _detail_page(item)


def _detail_page(item: ServiceRequest, delivery_error: str | None = None,
                 typed_title: str = "", revoke_error: tuple[str, str] | None = None) -> str:
    """The request's page; after a refused issue or revocation, with the reason beside its
    form (`revoke_error`: the document's public id and the reason)."""
    spec = ServiceSpec.model_validate(item.service)
    snapshot = catalog_versions.current_snapshot(session())
    fields = [(f.label, display_value(f, item.fields.get(f.name))) for f in spec.form]
    unknown = [(k, str(v)) for k, v in item.fields.items() if k not in {f.name for f in spec.form}]
    users = {u.id: u for u in session().scalars(select(User))}
    notifications = session().scalars(select(Notification).where(
        Notification.request_id == item.id).order_by(Notification.id)).all()
    return render_template(
        "desk/request.html", item=item, spec=spec, fields=fields + unknown,
        view=public_view(item, snapshot), users=users, notifications=notifications,
        inquiry_rows=inquiries.for_desk(session(), item),
        actions=allowed_actions(Status(item.status)), RULES=RULES, Action=Action,
        documents_by_slot={d.id: [x for x in item.documents if x.slot == d.id]
                           for d in spec.documents},
        slot_names={d.id: d.name for d in spec.documents},
        asked=documents.asked_slots(item) or [], attach_client_id=new_client_id(),
        revoke_error=revoke_error, **_delivery_context(item, delivery_error, typed_title))


def _delivery_context(item: ServiceRequest, error: str | None, typed_title: str
                      ) -> dict[str, Any]:
    """The issue form (with what the template would print) and the request's documents."""
    moment = now()
    issuable = Status(item.status) in delivery.ISSUABLE
    return {"deliverables": delivery.of_request(session(), item),
            "deliverable_state": lambda d: delivery.state(d, jalali.to_local(moment).date()),
            "issuable": issuable, "issue_client_id": new_client_id(),
            "delivery_preview": delivery.preview(session(), item, moment) if issuable else None,
            "delivery_error": error, "typed_title": typed_title,
            "may_revoke": current_user.role in delivery.REVOKERS}


@bp.post("/requests/<code>/act")
@roles_required(*WORKERS)
def act(code: str) -> Response:
    item = _request_for(code)
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        abort(400)
    staff_action = StaffAction(
        action=action, public_note=request.form.get("public_note", "")[:2000],
        internal_note=request.form.get("internal_note", "")[:2000],
        payment_reference=request.form.get("payment_reference", ""),
        documents=tuple(request.form.getlist("documents")[:MAX_ASKED]))

    def work(db: Session) -> None:
        perform(db, item, current_user, staff_action, public_url=public_url(),
                address=request.remote_addr)

    try:
        unit_of_work(work)
    except ActionRefused as exc:
        flash(exc.message, "error")
    else:
        flash(f"انجام شد: {RULES[action].label}", "success")
    return redirect(url_for("desk.request_detail", code=item.tracking_code))


@bp.post("/requests/<code>/documents")
@roles_required(*WORKERS)
def attach_documents(code: str) -> Response:
    """A clerk attaches documents the applicant brought to the counter, scanned there, and
    may send a request waiting for them back to review."""
    item = _request_for(code)
    try:
        client_id = str(uuid.UUID(request.form.get("client_id", "")))
    except ValueError:
        abort(400)
    spec = ServiceSpec.model_validate(item.service)
    uploads = read_uploads(spec, client_id, spec.documents)
    move_on = request.form.get("move_on") == "yes"
    storage = current_app.extensions["miz.storage"]
    max_bytes = current_app.config["MAX_DOCUMENT_BYTES"]
    url, address = public_url(), request.remote_addr

    def work(db: Session) -> None:
        attach_at_counter(db, item, storage, uploads, current_user, move_on=move_on,
                          max_bytes=max_bytes, public_url=url, address=address)

    try:
        unit_of_work(work)
    except (ActionRefused, documents.DocumentRejected) as exc:
        flash(exc.message, "error")
    else:
        attached = "مدرک پیوست شد" if uploads else ""
        moved = "درخواست به بررسی برگشت" if move_on else ""
        flash(" و ".join(part for part in (attached, moved) if part) + ".", "success")
    return redirect(url_for("desk.request_detail", code=item.tracking_code))


@bp.post("/requests/<code>/deliverables")
@roles_required(*WORKERS)
def issue_deliverable(code: str) -> Response | tuple[str, int]:
    """«صدور سند»: from the service's template, or the PDF the clerk uploaded; the form's
    client id makes a double click one document."""
    item = _request_for(code)
    try:
        client_id = str(uuid.UUID(request.form.get("client_id", "")))
    except ValueError:
        abort(400)
    upload = request.files.get("pdf")
    pdf = upload.read() if upload is not None and upload.filename else None
    title = request.form.get("title", "")[:200]
    given = delivery.Issue(client_id, pdf, title or None)
    storage = current_app.extensions["miz.storage"]
    signing = delivery.Signing.from_config(current_app.config)
    url, address = public_url(), request.remote_addr

    def work(db: Session) -> tuple[Deliverable, bool]:
        return delivery.issue(db, storage, signing, item, current_user, given, now(),
                              address=address, public_url=url)

    try:
        document, created = unit_of_work(work)
    except delivery.DeliveryRefused as exc:
        session().rollback()
        return _detail_page(item, exc.message, title), exc.status
    flash(f"سند «{document.title}» با شماره {document.number} صادر و امضا شد"
          + ("؛ پیامک آماده بودن آن برای متقاضی نوشته شد." if created else
             " (این صدور پیش‌تر انجام شده بود)."), "success")
    return redirect(url_for("desk.request_detail", code=item.tracking_code) + "#delivery")


def _deliverable(item: ServiceRequest, public_id: str) -> Deliverable:
    found = delivery.find(session(), public_id) if delivery.is_public_id(public_id) else None
    if found is None or found.request_id != item.id:
        abort(404)
    return found


@bp.get("/requests/<code>/deliverables/<public_id>.pdf")
@roles_required(*WORKERS)
def deliverable_file(code: str, public_id: str) -> Response:
    """The signed PDF as issued, for staff (audited)."""
    item = _request_for(code)
    document = _deliverable(item, public_id)
    data = delivery.signed_pdf(session(), current_app.extensions["miz.storage"], document,
                               current_user, address=request.remote_addr)
    session().commit()
    return _attachment(data, document)


def _attachment(data: bytes, document: Deliverable) -> Response:
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=delivery.file_name(document))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/requests/<code>/deliverables/<public_id>/revoke")
@roles_required(Role.supervisor, Role.admin)
def revoke_deliverable(code: str, public_id: str) -> Response | tuple[str, int]:
    """A supervisor revokes a document, with a reason the citizen and `/v/<id>` show."""
    item = _request_for(code)
    document = _deliverable(item, public_id)
    reason, address = request.form.get("reason", "")[:2000], request.remote_addr
    try:
        unit_of_work(lambda db: delivery.revoke(db, document, current_user, reason, now(),
                                                address=address))
    except delivery.DeliveryRefused as exc:
        session().rollback()
        return _detail_page(item, revoke_error=(document.public_id, exc.message)), exc.status
    flash(f"سند شماره {document.number} باطل شد.", "success")
    return redirect(url_for("desk.request_detail", code=item.tracking_code) + "#delivery")


def _document(code: str, document_id: int) -> RequestDocument:
    item = _request_for(code)
    document = session().get(RequestDocument, document_id)
    if document is None or document.request_id != item.id:
        abort(404)
    audit.record(session(), current_user, "document.viewed", item,
                 address=request.remote_addr, document=document.id)
    session().commit()
    return document


@bp.get("/requests/<code>/documents/<int:document_id>")
@roles_required(*WORKERS)
def document_file(code: str, document_id: int) -> Response:
    document = _document(code, document_id)
    data = current_app.extensions["miz.storage"].read(document.stored_name)
    extension = document.stored_name.rsplit(".", 1)[-1]
    response = send_file(io.BytesIO(data), mimetype=document.media_type,
                         download_name=f"document-{document.id}.{extension}")
    # A PDF may carry scripts and forms: it is downloaded, never opened in the desk's origin.
    disposition = "attachment" if document.media_type == "application/pdf" else "inline"
    response.headers["Content-Disposition"] = \
        f"{disposition}; filename=document-{document.id}.{extension}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/requests/<code>/documents/<int:document_id>/preview.png")
@roles_required(*WORKERS)
def document_preview(code: str, document_id: int) -> Response:
    """A PNG of an image the browser cannot show itself (TIFF), its first pages stacked."""
    document = _document(code, document_id)
    if not document.media_type.startswith("image/"):
        abort(404)
    data = current_app.extensions["miz.storage"].read(document.stored_name)
    try:
        png = documents.preview_png(data)
    except documents.TooBig:
        abort(Response(render_template(
            "errors/error.html", status=422, message="این پرونده برای پیش‌نمایش بیش از حد بزرگ "
            "است (صفحه‌ها یا ابعاد آن از حد مجاز بیشتر است)؛ آن را دریافت کنید."), 422))
    return Response(png, mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})


@bp.get("/walk-in")
@roles_required(*OFFICE_STAFF)
def walk_in() -> str:
    """The services filed at the counter, in Persian alphabetical order of their titles;
    `q` keeps those the catalog's search finds (the page's script filters as one types)."""
    snapshot = catalog_versions.current_snapshot(session())
    query = request.args.get("q", "").strip()[:200]
    services = sorted((s for s in snapshot.catalog.services if Channel.counter in s.channels),
                      key=lambda s: persian_sort_key(s.title))
    if query:
        found = {hit.service.slug for hit in snapshot.search(query)}
        services = [s for s in services if s.slug in found]
    return render_template("desk/walk_in.html", snapshot=snapshot, services=services,
                           query=query, search_text=_search_text)


def _search_text(service: ServiceSpec, category: str) -> str:
    """What the list's script matches typed words against: title, category, keywords."""
    return normalize(" ".join([service.title, category, *service.keywords]))


@bp.route("/walk-in/<slug>", methods=["GET", "POST"])
@roles_required(*OFFICE_STAFF)
def walk_in_form(slug: str) -> str | Response | tuple[str, int]:
    snapshot = catalog_versions.current_snapshot(session())
    spec = snapshot.service(slug)
    if spec is None or Channel.counter not in spec.channels:
        abort(404)
    posted = PostedForm(client_id=new_client_id())
    if request.method == "POST":
        posted = read_form(spec)
        filed = file_request(spec, posted, "counter", public_url(), user=current_user)
        if filed is not None:
            audit.record(session(), current_user, "request.filed_at_counter", filed,
                         address=request.remote_addr)
            session().commit()
            return redirect(url_for("web.receipt", code=filed.tracking_code, new=1))
    return render_template("desk/walk_in_form.html", service=spec, posted=posted,
                           applicant_fields=APPLICANT_FIELDS), 422 if posted.errors else 200


@bp.get("/notifications")
@roles_required(Role.supervisor, Role.admin)
def notifications() -> str:
    items = session().scalars(select(Notification).order_by(Notification.id.desc())
                              .limit(200)).all()
    codes_by_id = dict(session().execute(
        select(ServiceRequest.id, ServiceRequest.tracking_code)
        .where(ServiceRequest.id.in_({n.request_id for n in items} or {0}))).all())
    budget = background.sms_policy(current_app.config).daily_budget_parts
    used = notifications_usecase.parts_spent_on(session(), now())
    return render_template("desk/notifications.html", items=items, codes=codes_by_id,
                           tickets=walk_in_queue.labels(
                               session(), catalog_versions.current_snapshot(session()),
                               {n.ticket_id for n in items if n.ticket_id}),
                           budget=budget, used=used,
                           budget_spent=notifications_usecase.budget_spent(session(), now(),
                                                                            budget))


@bp.get("/find")
@roles_required(*OFFICE_STAFF)
def find() -> Response:
    code = request.args.get("code", "")
    try:
        normalized = tracking_codes.normalize(code)
    except tracking_codes.InvalidCode as exc:
        flash(exc.message, "error")
        return redirect(url_for("desk.inbox"))
    return redirect(url_for("desk.request_detail", code=normalized))



@bp.get("/kiosks")
@roles_required(*OFFICE_STAFF)
def kiosk_health() -> str:
    """The lobby kiosks as they last reported: online, outbox, printer, clock."""
    moment = now()
    items = [kiosk_status.health(k, moment) for k in kiosks.all_kiosks(session())
             if k.revoked_at is None]
    return render_template("desk/kiosks.html", items=items)
