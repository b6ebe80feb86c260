"""Public pages of a request: apply online, the receipt with its QR, tracking by code."""

from __future__ import annotations

import io
import time
import uuid
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
from flask import (
    session as http_session,
)
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from counter_server import clock, quotas
from counter_server.api.auth import is_kiosk_call
from counter_server.context import bus, database, public_url, session, unit_of_work
from counter_server.db import utcnow
from counter_server.errors import http_error
from counter_server.extensions import limiter
from counter_server.quotas import track_limit
from counter_server.models import MobileConfirmation, ServiceRequest
from counter_server.usecases import (
    catalog_versions,
    delivery,
    documents,
    inquiries,
    mobile_confirmation,
    notifications,
    public_tracking,
    service_requests,
    workflow,
)
from counter_server.web import bp
from counter_server.web.forms import (
    DOCUMENTS_TOO_LARGE,
    PostedForm,
    file_request,
    new_client_id,
    read_form,
    read_uploads,
)
from counter_server.web.qr import qr_svg
from shared import jalali, tracking_codes
from shared.catalog.schema import Channel, Document, ServiceSpec
from shared.forms import APPLICANT_FIELDS, display_value
from shared.receipts import tracking_url
from shared.seals import STATE_LABELS

TRACK_LIMIT = track_limit
VERIFIED = "verified_requests"
CONFIRMATION = "mobile_confirmation"
DOWNLOAD_CODES = "download_codes"  # tracking code → the one-time code's confirmation id


def _online_service(slug: str) -> ServiceSpec:
    """The service `slug` offered online (404 otherwise), read in a session of its own: the
    request's own session of a POST takes the write lock, which must not be held while the
    registry and the SMS provider are asked."""
    try:
        with database().session() as reading:
            _snapshot, spec = catalog_versions.get_service(reading, slug)
    except (catalog_versions.ServiceNotFound, catalog_versions.ServiceWithdrawn):
        abort(404)
    except catalog_versions.NoCatalog:
        abort(503)
    if Channel.online not in spec.channels:
        abort(404)
    return spec


@bp.route("/services/<slug>/apply", methods=["GET", "POST"])
def apply(slug: str) -> str | Response | tuple[str, int]:
    """The online form — once the applicant's mobile is confirmed (see `confirm_mobile`)."""
    spec = _online_service(slug)
    policy = mobile_confirmation.policy_from_config(current_app.config)
    with database().session() as reading:
        confirmed = mobile_confirmation.confirmed(reading, http_session.get(CONFIRMATION),
                                                  utcnow(), policy)
    if confirmed is None:
        return _mobile_step(spec)
    posted = PostedForm(client_id=new_client_id())
    if request.method == "POST":
        posted = read_form(spec)
        posted.applicant.update(national_code=confirmed.national_code, mobile=confirmed.mobile)
        filed = file_request(spec, posted, "online", public_url(),
                             confirmation=confirmed.public_id)
        if filed is not None:
            return redirect(url_for("web.receipt", code=filed.tracking_code, new=1))
    return _apply_form(spec, confirmed, posted)


def _apply_form(spec: ServiceSpec, confirmed: MobileConfirmation,
                posted: PostedForm) -> tuple[str, int]:
    posted.applicant.update(national_code=confirmed.national_code, mobile=confirmed.mobile)
    status = 429 if posted.errors.get("form") == quotas.FILINGS_REFUSED else 422
    return render_template("apply.html", service=spec, posted=posted,
                           applicant_fields=APPLICANT_FIELDS,
                           confirmed_fields=("national_code", "mobile")
                           ), status if posted.errors else 200


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Any:
    """A body past `MAX_CONTENT_LENGTH` is not read at all: the online form comes back
    (empty: nothing of it was read) with why, a hand-in goes back to its tracking page."""
    ceiling = documents.megabytes(current_app.config["MAX_CONTENT_LENGTH"])
    message = (f"حجم این درخواست بیش از {ceiling} مگابایت بود و دریافت نشد؛ پرونده‌ها را "
               "کم‌حجم‌تر کنید و دوباره بفرستید.")
    args = request.view_args or {}
    if request.endpoint == "web.apply":
        spec = _online_service(args["slug"])
        confirmed = mobile_confirmation.confirmed(
            session(), http_session.get(CONFIRMATION), utcnow(),
            mobile_confirmation.policy_from_config(current_app.config))
        if confirmed is not None:
            posted = PostedForm(client_id=new_client_id(), errors={DOCUMENTS_TOO_LARGE: message})
            return _apply_form(spec, confirmed, posted)[0], 413
    if request.endpoint == "web.upload_requested":
        flash(message, "error")
        return redirect(url_for("web.track", code=args["code"]))
    return http_error(exc)


def _mobile_step(spec: ServiceSpec, typed: dict[str, str] | None = None,
                 error: mobile_confirmation.ConfirmationRefused | None = None
                 ) -> tuple[str, int]:
    """Before the form: the national code and mobile, or the code sent to it."""
    waiting = mobile_confirmation.pending(session(), http_session.get(CONFIRMATION), utcnow())
    status = (error.status if error else 200)
    return render_template(
        "apply_mobile.html", service=spec, waiting=waiting, typed=typed or {},
        error=error, masked=mobile_confirmation.masked(waiting.mobile) if waiting else "",
        checks_mobile=inquiries.mobile_check_of(spec) is not None,
        minutes=mobile_confirmation.policy_from_config(current_app.config
                                                       ).code_lifetime.seconds // 60), status


@bp.post("/services/<slug>/apply/mobile")
@limiter.limit("30 per minute")
def confirm_mobile(slug: str) -> Response | tuple[str, int]:
    """Check the mobile against the national code (when the service does) and text a code."""
    spec = _online_service(slug)
    typed = {"national_code": request.form.get("national_code", "")[:30],
             "mobile": request.form.get("mobile", "")[:30]}
    try:
        sent = mobile_confirmation.start(
            database(), bus(), service=spec.slug, now=utcnow(),
            address=request.remote_addr or "", secret=current_app.config["SECRET_KEY"],
            policy=mobile_confirmation.policy_from_config(current_app.config), **typed)
    except mobile_confirmation.ConfirmationRefused as exc:
        return _mobile_step(spec, typed, exc)
    http_session[CONFIRMATION] = sent.public_id
    return redirect(url_for("web.apply", slug=spec.slug))


@bp.post("/services/<slug>/apply/code")
@limiter.limit("30 per minute")
def type_code(slug: str) -> Response | tuple[str, int]:
    spec = _online_service(slug)
    try:
        mobile_confirmation.confirm(
            session(), http_session.get(CONFIRMATION), request.form.get("code", "")[:20],
            utcnow(), mobile_confirmation.policy_from_config(current_app.config),
            current_app.config["SECRET_KEY"])
    except mobile_confirmation.ConfirmationRefused as exc:
        session().commit()  # a wrong try counts
        return _mobile_step(spec, error=exc)
    session().commit()
    return redirect(url_for("web.apply", slug=spec.slug))


@bp.post("/services/<slug>/apply/another-mobile")
def another_mobile(slug: str) -> Response:
    """Start again with another national code or mobile (or ask for a new code)."""
    http_session.pop(CONFIRMATION, None)
    return redirect(url_for("web.apply", slug=_online_service(slug).slug))


def _find(code: str, with_history: bool = False) -> ServiceRequest:
    """The request with this code: 400 for a malformed code (no database lookup), else 404."""
    try:
        normalized = tracking_codes.normalize(code)
    except tracking_codes.InvalidCode as exc:
        abort(Response(render_template("track_invalid.html", message=exc.message,
                                       code=code[:64]), 400))
    found = service_requests.find_by_code(session(), normalized, with_history)
    if found is None:
        abort(Response(render_template("track_invalid.html", code=code[:64],
                                       message="درخواستی با این کد رهگیری پیدا نشد."), 404))
    return found


@bp.get("/t")
def track_form() -> str | Response:
    code = request.args.get("code", "").strip()
    if not code:
        return render_template("track_form.html")
    try:
        return redirect(url_for("web.track", code=tracking_codes.normalize(code)))
    except tracking_codes.InvalidCode as exc:
        return Response(render_template("track_form.html", error=exc.message, code=code[:64]),
                        400)


@bp.get("/t/<code>/receipt")
@limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
def receipt(code: str) -> str:
    item = _find(code)
    if item.tracking_code != code:
        abort(404)
    return render_template("receipt.html", item=item, new=bool(request.args.get("new")),
                           tracking_url=f"{public_url()}/t/{item.tracking_code}")


@bp.get("/t/<code>/qr.svg")
@limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
def qr(code: str) -> Response:
    item = _find(code)
    return qr_svg(tracking_url(public_url(), item.tracking_code))


def _is_verified(item: ServiceRequest) -> bool:
    verified = http_session.get(VERIFIED, {})
    until = verified.get(item.tracking_code, 0)
    return bool(until and until > time.time())


@bp.get("/t/<code>")
@limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
def track(code: str) -> str | Response:
    item = _find(code, with_history=True)
    if item.tracking_code != code:
        return redirect(url_for("web.track", code=item.tracking_code))
    return _track_page(item)


def _track_page(item: ServiceRequest, typed: dict[str, str] | None = None,
                check_error: str | None = None, code_error: str | None = None) -> str:
    """The tracking page; after a failed applicant check, with what was typed and why."""
    snapshot = catalog_versions.current_snapshot(session())
    view = public_tracking.public_view(item, snapshot)
    spec = ServiceSpec.model_validate(item.service)
    personal = None
    if _is_verified(item):
        personal = [(f.label, display_value(f, item.fields.get(f.name))) for f in spec.form
                    if f.name in item.fields]
    today = jalali.to_local(clock.now()).date()
    delivered = [(d, delivery.state(d, today)) for d in delivery.of_request(session(), item)]
    return render_template("track.html", item=item, view=view, personal=personal,
                           delivered=delivered, STATE_LABELS=STATE_LABELS,
                           download_code=_download_code_step(item) if delivered else None,
                           code_error=code_error,
                           service=spec, upload_slots=_slots_to_send(item, spec),
                           upload_client_id=new_client_id(),
                           typed=typed or {}, check_error=check_error)


def _download_code_step(item: ServiceRequest) -> str | None:
    """Where the applicant is with the one-time code their service asks before a download:
    None (no code asked), "confirmed", "pending" (a code was sent) or "ask"."""
    if not delivery.needs_download_code(session(), item):
        return None
    policy = mobile_confirmation.policy_from_config(current_app.config)
    public_id = http_session.get(DOWNLOAD_CODES, {}).get(item.tracking_code)
    if mobile_confirmation.confirmed_for_applicant(session(), public_id, item, utcnow(), policy):
        return "confirmed"
    if mobile_confirmation.pending(session(), public_id, utcnow()) is not None:
        return "pending"
    return "ask"


def _slots_to_send(item: ServiceRequest, spec: ServiceSpec) -> list[Document]:
    """The slots the upload form offers: the documents staff named when they asked, else
    (the ask's note says what is needed) those the service asks for."""
    asked = documents.asked_slots(item)
    if asked is None:
        return spec.documents_to_ask
    return [d for d in spec.documents if d.id in asked]


@bp.post("/t/<code>/verify")
@limiter.limit("20 per minute")
def verify(code: str) -> Response | tuple[str, int]:
    """Check the applicant; on failure show the page again with what they typed kept, so
    they can correct one digit."""
    item = _find(code, with_history=True)
    national_code, mobile = request.form.get("national_code", ""), request.form.get("mobile", "")
    typed = {"national_code": national_code[:20], "mobile": mobile[:20]}
    try:
        proven = public_tracking.verify_applicant(item, national_code, mobile)
    except public_tracking.CheckLocked:
        return _track_page(item, typed, "به دلیل چند تلاش ناموفق، بررسی هویت برای این کد تا چند "
                                        "دقیقه قفل است."), 429
    session().commit()
    if not proven:
        return _track_page(item, typed, "کد ملی یا شماره همراه با اطلاعات این درخواست یکسان "
                                        "نیست؛ رقم‌ها را بررسی و دوباره امتحان کنید."), 422
    minutes = current_app.config["APPLICANT_CHECK_MINUTES"]
    verified = {k: v for k, v in http_session.get(VERIFIED, {}).items() if v > time.time()}
    verified[item.tracking_code] = time.time() + minutes * 60
    http_session[VERIFIED] = verified
    flash("هویت شما تأیید شد.", "success")
    return redirect(url_for("web.track", code=item.tracking_code))


@bp.post("/t/<code>/sms")
@limiter.limit("20 per minute")
def sms_choice(code: str) -> Response:
    """The applicant stops (or resumes) the SMS about their request."""
    item = _find(code)
    if not _is_verified(item):
        abort(403)
    stop = request.form.get("sms") == "stop"

    def work(db: Session) -> None:
        if stop:
            notifications.stop_for(db, item, utcnow())
        else:
            notifications.resume_for(item)

    unit_of_work(work)
    flash("دیگر برای این درخواست پیامکی فرستاده نمی‌شود." if stop
          else "پیامک‌های این درخواست دوباره فرستاده می‌شود.", "success")
    return redirect(url_for("web.track", code=item.tracking_code) + "#applicant")


@bp.post("/t/<code>/documents")
@limiter.limit("20 per minute")
def upload_requested(code: str) -> Response:
    """The applicant sends the documents staff asked for; the request goes back to review.
    A file posted for any of the service's other documents reaches the use case, which
    refuses it with a Persian message."""
    item = _find(code, with_history=True)
    if not _is_verified(item):
        abort(403)
    storage = current_app.extensions["miz.storage"]
    max_bytes, url = current_app.config["MAX_DOCUMENT_BYTES"], public_url()
    try:
        uploads = _requested_uploads(ServiceSpec.model_validate(item.service))
        unit_of_work(lambda db: workflow.provide_documents(
            db, item, storage, uploads, max_bytes=max_bytes, public_url=url))
    except (workflow.ActionRefused, documents.DocumentRejected) as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.track", code=item.tracking_code))
    flash("مدارک شما رسید و درخواست دوباره به کارشناس سپرده شد.", "success")
    return redirect(url_for("web.track", code=item.tracking_code))


def _requested_uploads(spec: ServiceSpec) -> list[documents.Upload]:
    batch = request.form.get("client_id", "")
    try:
        client_id = str(uuid.UUID(batch))
    except ValueError:
        abort(400)
    return read_uploads(spec, client_id, spec.documents)


@bp.get("/t/<code>/documents/<public_id>.pdf")
@limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
def download_deliverable(code: str, public_id: str) -> Response:
    """The signed PDF delivered for the request, to the applicant who passed the check on
    this browser (else back to the check, never the file); audited."""
    item = _find(code)
    found = delivery.find(session(), public_id) if delivery.is_public_id(public_id) else None
    if found is None or found.request_id != item.id:
        abort(404)
    if not _is_verified(item):
        flash("برای دریافت سند، نخست کد ملی و شماره همراه ثبت‌شده در درخواست را وارد کنید.",
              "error")
        return redirect(url_for("web.track", code=item.tracking_code) + "#applicant")
    if _download_code_step(item) not in (None, "confirmed"):
        flash("برای دریافت این سند، کدی را که به شماره همراه شما پیامک می‌شود وارد کنید.",
              "error")
        return redirect(url_for("web.track", code=item.tracking_code) + "#delivered")
    data = delivery.signed_pdf(session(), current_app.extensions["miz.storage"], found, None,
                               address=request.remote_addr)
    session().commit()
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=delivery.file_name(found))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/t/<code>/documents/code")
@limiter.limit("20 per minute")
def send_download_code(code: str) -> Response | tuple[str, int]:
    """Text the applicant's mobile a one-time code for downloading (the service asks it)."""
    item = _find(code, with_history=True)
    if not _is_verified(item):
        return redirect(url_for("web.track", code=item.tracking_code) + "#applicant")
    tracking_code, slug = item.tracking_code, item.service_slug
    national_code, mobile = item.applicant_national_code, item.applicant_mobile
    session().rollback()  # `start` writes in transactions of its own
    try:
        sent = mobile_confirmation.start(
            database(), None, service=slug, national_code=national_code, mobile=mobile,
            address=request.remote_addr or "", now=utcnow(),
            policy=mobile_confirmation.policy_from_config(current_app.config),
            secret=current_app.config["SECRET_KEY"])
    except mobile_confirmation.ConfirmationRefused as exc:
        return _track_page(item, code_error=exc.message), exc.status
    http_session[DOWNLOAD_CODES] = {**http_session.get(DOWNLOAD_CODES, {}),
                                    tracking_code: sent.public_id}
    return redirect(url_for("web.track", code=tracking_code) + "#delivered")


@bp.post("/t/<code>/documents/code/confirm")
@limiter.limit("20 per minute")
def confirm_download_code(code: str) -> Response | tuple[str, int]:
    item = _find(code, with_history=True)
    if not _is_verified(item):
        return redirect(url_for("web.track", code=item.tracking_code) + "#applicant")
    try:
        mobile_confirmation.confirm(
            session(), http_session.get(DOWNLOAD_CODES, {}).get(item.tracking_code),
            request.form.get("code", "")[:20], utcnow(),
            mobile_confirmation.policy_from_config(current_app.config),
            current_app.config["SECRET_KEY"])
    except mobile_confirmation.ConfirmationRefused as exc:
        session().commit()  # a wrong try counts
        return _track_page(item, code_error=exc.message), exc.status
    session().commit()
    return redirect(url_for("web.track", code=item.tracking_code) + "#delivered")
