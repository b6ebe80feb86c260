"""Demo data for `make demo`: staff accounts, a kiosk, and requests in several states.

Runs the same use cases as real traffic (filing, documents, staff actions), so what a
newcomer sees on the desk is what the system really produces.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.models import Counter, ServiceRequest, User
from counter_server.usecases import documents, kiosks, lobby_admin, walk_in_queue, service_requests, staff
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby, TicketOrder
from counter_server.usecases.service_requests import Submission
from counter_server.usecases.workflow import StaffAction, perform
from counter_server.storage import Storage
from shared.catalog.schema import FieldType, FormField
from shared.workflow import Action

PASSWORD = "miz-demo-1405"


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
)

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


def _fields_for(session: Session, slug: str) -> dict[str, object]:
    spec = current_snapshot(session).service(slug)
    if spec is None:
        raise ValueError(f"the demo needs the service {slug!r} in the catalog")
    return {field.name: sample_value(field) for field in spec.form}


def seed(session: Session, storage: Storage, public_url: str) -> list[str]:
    """Create the demo users, kiosk and requests once; returns what it created."""
    if session.scalar(select(User).limit(1)) is not None:
        return []
    created = []
    users = {}
    for demo in USERS:
        users[demo.username] = staff.create_user(session, demo.username, demo.full_name,
                                                 demo.role, PASSWORD, list(demo.services))
        created.append(f"user {demo.username} ({demo.role.value})")
    registration = kiosks.register_kiosk(session, "کیوسک سالن انتظار همکف", LOBBY_OFFICE)
    created.append(f"kiosk {registration.kiosk.id:02d}, token {registration.token}")
    for slug, name, national_code, mobile, actions in REQUESTS:
        item = _file(session, storage, slug, name, national_code, mobile, public_url)
        clerk = next(u for u in users.values() if slug in u.service_slugs)
        for action in actions:
            perform(session, item, clerk, StaffAction(
                action, public_note=NOTES.get(action, ""),
                payment_reference="DEMO-" + item.tracking_code[-6:]), public_url=public_url)
        created.append(f"request {item.tracking_code} ({slug}: {item.status})")
    created += _seed_lobby(session, users["supervisor"], utcnow())
    return created


LOBBY_OFFICE = "isfahan-hq"
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


def _seed_lobby(session: Session, supervisor: User, now: datetime) -> list[str]:
    """Counters in both offices, and a lobby in mid-morning: some served, some waiting."""
    for office, number, queues in COUNTERS:
        lobby_admin.add_counter(session, office, number, None, queues)
    counters = lobby_admin.all_counters(session)
    created = [f"{len(counters)} counters"]
    snapshot = current_snapshot(session)
    for service, priority, minutes_ago, served_minutes in TICKETS:
        taken = now - timedelta(minutes=minutes_ago)
        ticket = walk_in_queue.issue(session, Lobby(snapshot, taken), TicketOrder(
            client_id=str(uuid.uuid4()), service=service, priority=priority,
            office=LOBBY_OFFICE), user=supervisor, enforce_hours=False).ticket
        if served_minutes is not None:
            counter = next(c for c in counters if c.office_slug == LOBBY_OFFICE
                           and ticket.queue_slug in c.queues)
            called = taken + timedelta(minutes=2)
            _serve(session, Lobby(snapshot, called), counter, supervisor,
                   finished=called + timedelta(minutes=served_minutes))
    waiting = sum(1 for t in TICKETS if t[3] is None)
    created.append(f"{len(TICKETS)} tickets today, {waiting} waiting")
    return created


def _serve(session: Session, lobby: Lobby, counter: Counter, user: User,
           finished: datetime) -> None:
    """`counter` calls its next ticket at `lobby.now` and finishes with it at `finished`."""
    ticket = walk_in_queue.call_next(session, lobby, counter, user)
    if ticket is None:
        raise ValueError(f"counter {counter.number} had no ticket to call")
    walk_in_queue.act(session, Lobby(lobby.snapshot, finished), counter, ticket, "finish", user)


def _file(session: Session, storage: Storage, slug: str, name: str, national_code: str,
          mobile: str, public_url: str) -> ServiceRequest:
    submission = Submission(
        client_id=str(uuid.uuid4()), service=slug, channel="online",
        applicant={"name": name, "national_code": national_code, "mobile": mobile},
        fields=_fields_for(session, slug))
    filed = service_requests.submit(session, submission, public_url=public_url)
    for slot in filed.request.service["documents"]:
        if slot.get("mandatory", True) and "png" in slot["formats"]:
            documents.attach(session, storage, filed.request, documents.Upload(
                str(uuid.uuid4()), slot["id"], f"{slot['id']}.png", sample_scan(slot["id"])),
                "citizen")
    return filed.request
