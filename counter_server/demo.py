"""Demo data for `make demo`: staff accounts, a kiosk, requests in several states (a completed
one with its delivered, signed document), a lobby.

Runs the same use cases as real traffic (filing, documents, staff actions, the queue), so what
a newcomer sees on the desk is what the system really produces. `seed` creates it once; the
rest tells a newcomer, on every run, where to find it: the requests' tracking codes, the demo
kiosk's token and configuration file, and the addresses to open.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pyotp
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.config import REPO_ROOT
from counter_server.db import utcnow
from counter_server.models import Counter, Deliverable, Kiosk, ServiceRequest, Ticket, User
from counter_server.usecases import documents, kiosks, lobby_admin, walk_in_queue, service_requests, staff
from counter_server.usecases import delivery, surveys, two_factor
from counter_server.usecases.catalog_versions import Snapshot, current_snapshot
from counter_server.usecases.walk_in_queue import Lobby, TicketOrder
from counter_server.usecases.service_requests import Submission
from counter_server.usecases.workflow import StaffAction, perform
from counter_server.storage import Storage
from shared.catalog.schema import FieldType, FormField
from shared.workflow import Action

PASSWORD = "miz-demo-1405"
# The demo's supervisor and admin must give a second factor like real ones; their
# authenticator keys are published here (add one to an authenticator app, or print the
# current code with `flask --app counter_server demo-code USER`). Never a real account's.
TOTP_SECRETS = {"admin": "MIZDEMOADMINSECONDFACTORKEY23456",
                "supervisor": "MIZDEMOSUPERVISORSECONDFACTOR234"}
KIOSK_NAME = "کیوسک سالن انتظار همکف"
LOBBY_OFFICE = "isfahan-hq"
# The demo's requests have client ids of their own, so that every run can find them again.
_REQUEST_IDS = uuid.UUID("6d1f0c3e-5b7a-4e38-9a52-2f0d8c1e7b64")


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: staff.Role
    services: tuple[str, ...] = ()


USERS = (
    DemoUser("admin", "مدیر سامانه", staff.Role.admin),
    DemoUser("supervisor", "فاطمه موسوی", staff.Role.supervisor),
    DemoUser("clerk-tourism", "مریم کاظمی", staff.Role.clerk, (
        "travel-agency-licence", "travel-agency-licence-renewal", "tourism-trust-symbol",
        "ecolodge-licence", "tour-guide-card", "tour-guide-card-renewal",
        "comprehensive-tourism-exam", "tourism-complaint")),
    DemoUser("clerk-heritage", "علی رضایی", staff.Role.clerk, (
        "handicraft-artisan-id-card", "handicraft-production-licence", "handicraft-quality-mark",
        "heritage-zone-construction-permit", "national-heritage-registration",
        "heritage-filming-permit", "archaeological-survey-permit", "general-correspondence",
        "records-certificate", "information-access-request")),
    DemoUser("reception", "حسین نوری", staff.Role.receptionist),
)

# (service, applicant, national code, mobile, actions by the service's clerk)
REQUESTS = (
    ("tour-guide-card", "زهرا احمدی", "0499370899", "09121234567", ()),
    ("handicraft-production-licence", "رضا کریمی", "1270022288", "09131112233",
     (Action.claim,)),
    ("tourism-trust-symbol", "نگار صادقی", "0067749828", "09351234567",
     (Action.claim, Action.request_documents)),
    ("heritage-filming-permit", "امیر حسینی", "1290211388", "09123456780",
     (Action.claim, Action.advance)),
    ("records-certificate", "سارا محمدی", "4311243251", "09191234567",
     (Action.claim, Action.record_payment, Action.approve)),
    ("general-correspondence", "محمد جعفری", "0010350829", "09901234567",
     (Action.claim, Action.approve, Action.complete)),
    ("tour-guide-card-renewal", "لیلا رحیمی", "0084575948", "09371234567",
     (Action.claim, Action.reject)),
    # Not in the civil registry's demo data: the military-service inquiry cannot be done,
    # so a clerk checks by hand.
    ("handicraft-artisan-id-card", "کامران یوسفی", "1287654320", "09128887766",
     (Action.claim,)),
)

# The services whose demo request gets its document issued (from the catalog's template).
DELIVERED = ("general-correspondence",)
_DELIVERY_IDS = uuid.UUID("9a4e2b71-0c5d-4f83-8e16-3d7b5a2c9f40")

# The documents the demo's clerk asks for, by service (the note says why).
ASKED = {"tourism-trust-symbol": ("business_licence",)}
NOTES = {
    Action.request_documents: "تصویر پروانه بهره‌برداری خوانا نیست؛ لطفاً نسخه واضح‌تری بفرستید.",
    Action.advance: "مدارک کامل است؛ استعلام از دستگاه مربوط فرستاده شد.",
    Action.approve: "درخواست تأیید شد.",
    Action.complete: "پاسخ نامه به نشانی رایانامه شما فرستاده شد.",
    Action.reject: "گواهی دوره بازآموزی پیوست نشده و مهلت تمدید گذشته است.",
}


def sample_scan(title: str) -> bytes:
    """A small scanned-looking PNG, standing in for a document."""
    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 570, 770), outline="black", width=3)
    for y in range(120, 740, 40):
        draw.line((70, y, 530, y), fill=(150, 150, 150), width=2)
    draw.text((70, 60), title, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


SAMPLES: dict[str, object] = {
    "text": "نمونه متن برای نمایش فرم این خدمت", "textarea": "توضیح نمونه برای نمایش میز خدمت.",
    "national_code": "0499370899", "mobile": "09121234567", "postal_code": "8174673111",
    "date": "1405/08/20", "email": "citizen@example.ir", "checkbox": True,
}


def sample_value(field: FormField) -> object:
    """A plausible answer to a form field, from its type and bounds."""
    if field.type is FieldType.number:
        return int(field.min or 1)
    if field.type is FieldType.select:
        return field.options[0].value
    if field.type is FieldType.multiselect:
        return [field.options[0].value]
    value = SAMPLES[field.type.value]
    if isinstance(value, str) and field.type in (FieldType.text, FieldType.textarea):
        value = value.ljust(int(field.min or 0), "ی")[: int(field.max or len(value))]
    return value


# Answers the agencies' stand-in knows (assets/agencies/citizens.yaml), so the demo's
# inquiries come back with real verdicts: an expired licence, one held by someone else.
KNOWN_ANSWERS: dict[str, dict[str, object]] = {
    "records-certificate": {"licence_number": "HC-1401-11873"},
    "tourism-trust-symbol": {"licence_number": "TA-1403-04518"},
}


def _fields_for(session: Session, slug: str) -> dict[str, object]:
    spec = current_snapshot(session).service(slug)
    if spec is None:
        raise ValueError(f"the demo needs the service {slug!r} in the catalog")
    return {field.name: sample_value(field) for field in spec.form} | KNOWN_ANSWERS.get(slug, {})


@dataclass(frozen=True)
class Seeded:
    created: list[str]  # what this run created; empty when the demo data was there already
    kiosk_token: str | None  # the demo kiosk's token, when this run registered the kiosk


def second_factor_code(username: str) -> str:
    """The current authenticator code of a demo account with a published key."""
    return str(pyotp.TOTP(TOTP_SECRETS[username]).now())


def seed(session: Session, storage: Storage, public_url: str,
         signing: delivery.Signing | None = None, now: datetime | None = None) -> Seeded:
    """Create the demo users, kiosk, requests and lobby, unless there are staff already;
    with `signing` (the keys made), the completed request's document too. The lobby's
    story ends at `now` (the present by default)."""
    if session.scalar(select(User).limit(1)) is not None:
        return Seeded([], None)
    created = []
    users = {}
    for demo in USERS:
        users[demo.username] = staff.create_user(session, demo.username, demo.full_name,
                                                 demo.role, PASSWORD, list(demo.services))
        created.append(f"user {demo.username} ({demo.role.value})")
        if demo.username in TOTP_SECRETS:
            two_factor.set_known_secret(users[demo.username], TOTP_SECRETS[demo.username],
                                        utcnow())
    registration = kiosks.register_kiosk(session, KIOSK_NAME, LOBBY_OFFICE)
    created.append(f"kiosk {registration.kiosk.id:02d} ({KIOSK_NAME})")
    for index, (slug, name, national_code, mobile, actions) in enumerate(REQUESTS):
        item = _file(session, storage, _request_id(index), slug, name, national_code, mobile,
                     public_url)
        clerk = next(u for u in users.values() if slug in u.service_slugs)
        for action in actions:
            perform(session, item, clerk, StaffAction(
                action, public_note=NOTES.get(action, ""),
                payment_reference="DEMO-" + item.tracking_code[-6:],
                documents=ASKED.get(slug, ()) if action is Action.request_documents else ()),
                public_url=public_url)
        created.append(f"request {item.tracking_code} ({slug}: {item.status})")
        if signing is not None and slug in DELIVERED:
            document, _ = delivery.issue(
                session, storage, signing, item, clerk,
                delivery.Issue(str(uuid.uuid5(_DELIVERY_IDS, slug))), utcnow(),
                public_url=public_url)
            created.append(f"document {document.number} ({slug}, signed)")
    created += _seed_lobby(session, users["supervisor"], now or utcnow())
    created.append(_seed_survey_answers(session, registration.kiosk, utcnow()))
    return Seeded(created, registration.token)


def _request_id(index: int) -> str:
    return str(uuid.uuid5(_REQUEST_IDS, str(index)))


def demo_requests(session: Session) -> list[ServiceRequest]:
    """The requests `seed` filed, in its order, as they are now."""
    ids = [_request_id(index) for index in range(len(REQUESTS))]
    found = {r.client_id: r for r in session.scalars(
        select(ServiceRequest).where(ServiceRequest.client_id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def demo_deliverables(session: Session) -> list[Deliverable]:
    """The documents issued for the demo's requests."""
    ids = [r.id for r in demo_requests(session)]
    return list(session.scalars(select(Deliverable).where(Deliverable.request_id.in_(ids))
                                .order_by(Deliverable.id)))


def demo_kiosk(session: Session) -> Kiosk | None:
    return session.scalar(select(Kiosk).where(Kiosk.name == KIOSK_NAME))


def kiosk_token(session: Session, kiosk: Kiosk, known: str | None) -> str:
    """`known` if it is still `kiosk`'s token, else a new token (the old one stops working)."""
    if known and kiosks.authenticate(session, known) is kiosk:
        return known
    return kiosks.renew_token(session, kiosk)


COUNTERS = (
    ("isfahan-hq", 1, ["tourism-licences", "tour-guides"]),
    ("isfahan-hq", 2, ["tour-guides"]),
    ("isfahan-hq", 3, ["handicrafts"]),
    ("isfahan-hq", 4, ["heritage", "citizen-relations"]),
    ("kashan", 1, ["handicrafts", "heritage"]),
    ("kashan", 2, ["citizen-relations"]),
)
# (service, priority, minutes ago it was taken, minutes of service if already served)
TICKETS = (
    ("tour-guide-card", None, 95, 7), ("tour-guide-card-renewal", None, 90, 5),
    ("comprehensive-tourism-exam", None, 85, 6), ("handicraft-artisan-id-card", None, 80, 9),
    ("records-certificate", None, 75, 4), ("tour-guide-card", "elderly", 40, None),
    ("tour-guide-card-renewal", None, 35, None), ("tour-guide-card", None, 30, None),
    ("travel-agency-licence", None, 25, None), ("handicraft-production-licence", None, 20, None),
    ("heritage-filming-permit", "veterans", 15, None), ("general-correspondence", None, 5, None),
)


def lobby_minute(snapshot: Snapshot, now: datetime) -> timedelta:
    """How long one of `TICKETS`' minutes lasts: a minute, or less when today began less
    than the lobby's story ago (just after midnight), so that every ticket is today's."""
    today_began = datetime.combine(snapshot.calendar.local_date(now), time(),
                                   snapshot.calendar.zone)
    story = timedelta(minutes=max(t[2] for t in TICKETS) + 1)
    return timedelta(minutes=1) * min(1.0, (now - today_began) / story)


def _seed_lobby(session: Session, supervisor: User, now: datetime) -> list[str]:
    """Counters in both offices, and a lobby in mid-morning: some served, some waiting."""
    for office, number, queues in COUNTERS:
        lobby_admin.add_counter(session, office, number, None, queues)
    counters = lobby_admin.all_counters(session)
    created = [f"{len(counters)} counters"]
    snapshot = current_snapshot(session)
    minute = lobby_minute(snapshot, now)
    for service, priority, minutes_ago, served_minutes in TICKETS:
        taken = now - minutes_ago * minute
        ticket = walk_in_queue.issue(session, Lobby(snapshot, taken), TicketOrder(
            client_id=str(uuid.uuid4()), service=service, priority=priority,
            office=LOBBY_OFFICE), user=supervisor, enforce_hours=False).ticket
        if served_minutes is not None:
            counter = next(c for c in counters if c.office_slug == LOBBY_OFFICE
                           and ticket.queue_slug in c.queues)
            called = taken + 2 * minute
            _serve(session, Lobby(snapshot, called), counter, supervisor,
                   finished=called + served_minutes * minute)
    waiting = sum(1 for t in TICKETS if t[3] is None)
    created.append(f"{len(TICKETS)} tickets today, {waiting} waiting")
    return created


_SURVEY_IDS = uuid.UUID("3b0e4c52-8f61-4d0a-b7c9-5e2a1f6d9c83")
# (days ago, satisfaction, staff conduct, comment): kiosk answers about the demo's requests
# (even rows) and served tickets (odd rows), spread over five weeks for the report's trend.
SURVEY_ANSWERS = (
    (1, 5, 5, "کارمند باجه با حوصله همه چیز را توضیح داد."), (2, 4, 5, None),
    (6, 3, 4, "زمان انتظار در سالن طولانی بود."), (8, 5, 4, None),
    (13, 2, 3, "پر کردن فرم برخط روی گوشی سخت بود."), (15, 4, 4, None),
    (20, 5, 5, "پیامک‌های پیگیری بسیار به‌موقع بود."), (23, 3, 3, None),
    (29, 4, 5, None), (33, 1, 2, "پاسخ درخواستم دیرتر از زمان اعلام‌شده رسید."),
)


def _seed_survey_answers(session: Session, kiosk: Kiosk, now: datetime) -> str:
    """Answers from the lobby kiosk, so the satisfaction report has something to show."""
    requests = demo_requests(session)
    tickets = session.scalars(select(Ticket).where(Ticket.status == walk_in_queue.DONE)
                              .order_by(Ticket.id)).all()
    snapshot = current_snapshot(session)
    for index, (days, satisfaction, conduct, comment) in enumerate(SURVEY_ANSWERS):
        ticket = tickets[index % len(tickets)] if index % 2 and tickets else None
        request = None if ticket else requests[index % len(requests)]
        moment = now - timedelta(days=days)
        surveys.record(session, snapshot, surveys.Answers(
            client_id=str(uuid.uuid5(_SURVEY_IDS, str(index))),
            answers={"satisfaction": satisfaction, "staff_conduct": conduct},
            service=(ticket or request).service_slug,
            tracking_code=request.tracking_code if request else None,
            ticket_id=ticket.public_id if ticket else None, comment=comment,
            created_at=moment), kiosk, now=moment)
    return f"{len(SURVEY_ANSWERS)} survey answers"


def _serve(session: Session, lobby: Lobby, counter: Counter, user: User,
           finished: datetime) -> None:
    """`counter` calls its next ticket at `lobby.now` and finishes with it at `finished`."""
    ticket = walk_in_queue.call_next(session, lobby, counter, user)
    if ticket is None:
        raise ValueError(f"counter {counter.number} had no ticket to call")
    walk_in_queue.act(session, Lobby(lobby.snapshot, finished), counter, ticket, "finish", user)


def _file(session: Session, storage: Storage, client_id: str, slug: str, name: str,
          national_code: str, mobile: str, public_url: str) -> ServiceRequest:
    submission = Submission(
        client_id=client_id, service=slug, channel="online",
        applicant={"name": name, "national_code": national_code, "mobile": mobile},
        fields=_fields_for(session, slug))
    filed = service_requests.submit(session, submission, public_url=public_url)
    for slot in filed.request.service["documents"]:
        if slot.get("mandatory", True) and "png" in slot["formats"]:
            documents.attach(session, storage, filed.request, documents.Upload(
                str(uuid.uuid4()), slot["id"], f"{slot['id']}.png", sample_scan(slot["id"])),
                "citizen")
    return filed.request


# -- where to find it -------------------------------------------------------------------------


def server_url(host: str, port: int) -> str:
    """The address a browser or a kiosk on this machine reaches the served demo at."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def addresses(server: str) -> list[tuple[str, str]]:
    return [("Online desk", f"{server}/"), ("Staff desk", f"{server}/desk"),
            ("Lobby display", f"{server}/display/{LOBBY_OFFICE}")]


def token_in(config: Path) -> str | None:
    """The token a kiosk configuration file holds, if it is there and readable."""
    try:
        token = tomllib.loads(config.read_text(encoding="utf-8")).get("token")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return token if isinstance(token, str) else None


def write_kiosk_config(path: Path, kiosk_id: int, token: str, server: str) -> None:
    """The demo kiosk's TOML: kiosk_config/example-file.toml with its number, token and the
    served address, its store and receipts under var/kiosk-demo/."""
    values = {"server_url": server, "kiosk_id": kiosk_id, "token": token,
              "data_dir": str(REPO_ROOT / "var" / "kiosk-demo" / "data"),
              "path": str(REPO_ROOT / "var" / "kiosk-demo" / "receipts.escpos"),
              "folder": str(REPO_ROOT / "kiosk_config" / "demo-scans")}
    text = (REPO_ROOT / "kiosk_config" / "example-file.toml").read_text(encoding="utf-8")
    for key, value in values.items():
        line = f"{key} = {json.dumps(value, ensure_ascii=False)}"  # a TOML literal too
        text = re.sub(rf"(?m)^{key} = .*$", lambda _match, line=line: line, text)
    path.touch(mode=0o600)
    path.chmod(0o600)  # it holds the kiosk's token: the kiosk refuses it readable by others
    path.write_text(text, encoding="utf-8")
