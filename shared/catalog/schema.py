"""The catalog schema: one typed description of the agency and every service it offers.

The kiosk, the online desk and the counter all render this one description. Every model
forbids unknown keys, so a typo in a catalog file is an error, never a silently ignored field.
The same models generate the JSON Schema that the OpenAPI document publishes.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from shared.seals import OutputKind
from shared.text import to_persian_digits

if TYPE_CHECKING:
    from shared.workcalendar import WorkCalendar

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=2, max_length=80),
]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+\-() ]{3,30}$")]


class Model(BaseModel):
    """Base of every catalog model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(Model):
    address: Text
    phone: Phone
    email: str | None = None
    website: AnyHttpUrl | None = None


class Agency(Model):
    """The agency that runs the desk."""

    name: Text
    short_name: Text | None = None
    logo: str | None = Field(None, description="Path of the logo image, relative to assets/")
    contact: Contact
    public_base_url: AnyHttpUrl = Field(
        description="Public address of the online desk; receipt QR codes point below it"
    )


class Category(Model):
    slug: Slug
    title: Text
    order: int = 0
    icon: str = Field(description="Icon name: assets/icons/<icon>.svg")
    description: Text | None = None


class Weekday(str, Enum):
    """Days of the week, named in English in catalog files (Persian week starts on Saturday)."""

    saturday = "saturday"
    sunday = "sunday"
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"

    @property
    def iso(self) -> int:
        """ISO weekday number (Monday = 1 … Sunday = 7)."""
        order = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        return order.index(self.value) + 1


# A wall-clock time of the agency's time zone, written without an offset ("07:30:00"); JSON
# Schema's `format: time` would require one, so the documents state the pattern instead.
LocalTime = Annotated[time, WithJsonSchema({
    "type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "description": "Local time in the agency's time zone, without an offset",
    "examples": ["07:30:00"]})]


class OpeningHours(Model):
    opens: LocalTime
    closes: LocalTime

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.closes <= self.opens:
            raise ValueError("closes must be later than opens")
        return self


class Holiday(Model):
    date: Annotated[str, StringConstraints(pattern=r"^1[34][0-9]{2}-[01][0-9]-[0-3][0-9]$")] = Field(
        description="Jalali date, YYYY-MM-DD"
    )
    title: Text


def _default_hours() -> dict[Weekday, OpeningHours]:
    full = OpeningHours(opens=time(7, 30), closes=time(14, 30))
    days = ["saturday", "sunday", "monday", "tuesday", "wednesday"]
    hours = {Weekday(d): full for d in days}
    hours[Weekday.thursday] = OpeningHours(opens=time(7, 30), closes=time(12, 30))
    return hours


class CalendarSpec(Model):
    """Working time of the agency: weekly hours and the year's official holidays.

    A weekday absent from `working_hours` is a day off (Friday by default); Thursday works
    only in the morning by default.
    """

    timezone: str = "Asia/Tehran"
    working_hours: dict[Weekday, OpeningHours] = Field(default_factory=_default_hours)
    holidays: list[Holiday] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _some_working_day(self) -> CalendarSpec:
        if not self.working_hours:
            raise ValueError("working_hours must name at least one working day")
        dates = [h.date for h in self.holidays]
        duplicates = sorted({d for d in dates if dates.count(d) > 1})
        if duplicates:
            raise ValueError(f"holiday listed twice: {', '.join(duplicates)}")
        return self


class Channel(str, Enum):
    kiosk = "kiosk"
    online = "online"
    counter = "counter"


class Actor(str, Enum):
    citizen = "citizen"
    staff = "staff"
    system = "system"
    agency = "agency"


class DurationUnit(str, Enum):
    working_days = "working_days"
    working_hours = "working_hours"


class Duration(Model):
    value: int = Field(gt=0, le=365)
    unit: DurationUnit = DurationUnit.working_days

    def due_date(self, start: datetime, calendar: WorkCalendar) -> date:
        """The promised date: `value` working days (or opening hours) after `start`."""
        if self.unit is DurationUnit.working_hours:
            return calendar.add_working_hours(start, self.value).date()
        return calendar.add_working_days(start, self.value)


class Step(Model):
    """One step of a service's workflow, in order."""

    id: Slug = Field(description="Stable name of the step within its service, kept across "
                                 "catalog versions; what requests, inquiries and reports refer to")
    title: Text
    description: Text
    actor: Actor
    agency: Text | None = Field(
        None, description="The other agency asked (inquiry), when actor is 'agency'"
    )
    duration: Duration | None = None
    legal_basis: Text | None = None

    @model_validator(mode="after")
    def _agency_named(self) -> Step:
        if self.actor is Actor.agency and not self.agency:
            raise ValueError("a step done by another agency must name it in 'agency'")
        if self.actor is not Actor.agency and self.agency:
            raise ValueError("'agency' is only for steps whose actor is 'agency'")
        return self


class DocumentKind(str, Enum):
    original = "original"
    copy = "copy"
    original_and_copy = "original_and_copy"


class FileFormat(str, Enum):
    pdf = "pdf"
    jpeg = "jpeg"
    png = "png"
    tiff = "tiff"


class Document(Model):
    """A document the citizen hands in; `id` names its upload slot."""

    id: Name
    name: Text
    description: Text
    kind: DocumentKind
    mandatory: bool = True
    formats: list[FileFormat] = Field(
        default_factory=lambda: [FileFormat.pdf, FileFormat.jpeg, FileFormat.png], min_length=1
    )
    count: int = Field(1, ge=1, le=20, description="How many files or pages at most")


class Law(Model):
    title: Text
    reference: Text
    link: AnyHttpUrl | None = None


class Faq(Model):
    question: Text
    answer: Text


class FeeItem(Model):
    title: Text
    amount_rials: int = Field(gt=0)
    legal_basis: Text
    where_paid: Text


class Fees(Model):
    """What the service costs; a free service says so explicitly."""

    free: bool = False
    items: list[FeeItem] = Field(default_factory=list)
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Fees:
        if self.free and self.items:
            raise ValueError("a free service cannot list fee items")
        if not self.free and not self.items:
            raise ValueError("list the fee items, or set free: true")
        return self

    @property
    def total_rials(self) -> int:
        return sum(item.amount_rials for item in self.items)


class Complaint(Model):
    how: Text = Field(description="How to complain")
    follow_up: Text = Field(description="How to follow a complaint up")
    authority: Text = Field(description="To whom the complaint goes")
    phone: Phone | None = None
    link: AnyHttpUrl | None = None


class Responsible(Model):
    """The official responsible for the service."""

    name: Text
    title: Text
    unit: Text
    phone: Phone
    hours: Text
    email: str | None = None


class FieldType(str, Enum):
    text = "text"
    textarea = "textarea"
    number = "number"
    national_code = "national_code"
    mobile = "mobile"
    postal_code = "postal_code"
    date = "date"
    select = "select"
    multiselect = "multiselect"
    checkbox = "checkbox"
    email = "email"


class Option(Model):
    value: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    label: Text


class FormField(Model):
    """One question of a service's request form."""

    name: Name
    type: FieldType
    label: Text
    required: bool = True
    help: Text | None = None
    options: list[Option] = Field(default_factory=list)
    min: float | None = Field(None, description="Minimum value (number) or length (text)")
    max: float | None = Field(None, description="Maximum value (number) or length (text)")

    @model_validator(mode="after")
    def _options_fit_type(self) -> FormField:
        choice = self.type in (FieldType.select, FieldType.multiselect)
        if choice and len(self.options) < 2:
            raise ValueError(f"a {self.type.value} field needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a {self.type.value} field takes no options")
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError("option values must be unique")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class SurveyQuestion(Model):
    id: Name
    text: Text
    scale: Literal["stars", "faces"] = "faces"


class Survey(Model):
    """The satisfaction survey asked after the service (the kiosk's survey screen renders it)."""

    questions: list[SurveyQuestion] = Field(min_length=1, max_length=3)


APPLICANT_SOURCES = ("applicant.name", "applicant.national_code", "applicant.mobile")


class InquirySpec(Model):
    """An inquiry the service makes of another agency instead of asking for a paper."""

    id: Slug = Field(description="Stable name within the service")
    kind: Name = Field(description="One of shared.inquiries.KINDS, e.g. mobile_owner")
    inputs: dict[Name, str] = Field(
        description="The kind's inputs, each from 'applicant.<name|national_code|mobile>' "
                    "or 'fields.<form field>'")
    at_step: Slug | None = Field(
        None, description="Run when a clerk moves the request to this step; on filing if absent")
    on_failure: Literal["block", "manual"] = Field(
        "manual", description="block: the request cannot go on while the answer says no; "
                              "manual: a clerk checks by hand")
    replaces_documents: list[Name] = Field(
        default_factory=list, description="Documents no longer asked for: the inquiry gets them")

    @model_validator(mode="after")
    def _known_kind(self) -> InquirySpec:
        from shared.inquiries import KINDS

        kind = KINDS.get(self.kind)
        if kind is None:
            raise ValueError(f"unknown inquiry kind {self.kind!r}; known: {', '.join(KINDS)}")
        missing = sorted(set(kind.inputs) - set(self.inputs))
        extra = sorted(set(self.inputs) - set(kind.inputs))
        if missing:
            raise ValueError(f"inquiry {self.id!r} does not say where {', '.join(missing)} "
                             "comes from")
        if extra:
            raise ValueError(f"inquiry {self.id!r}: {self.kind} takes no {', '.join(extra)}")
        return self


class SmsSpec(Model):
    """Which of a request's events the citizen is told of by SMS."""

    events: list[Name] | None = Field(
        None, description="Events announced (submit, request_documents, record_payment, "
                          "approve, reject, complete, delivered); the usual ones when absent")
    steps: list[Slug] = Field(
        default_factory=list, description="Steps whose start is announced («مرحله … آغاز شد»)")


OUTPUT_PLACEHOLDERS = ("holder", "national_code", "number", "issued_on", "expires_on",
                       "service", "agency", "tracking_code")


class OutputField(Model):
    """One line of a delivered document: a label and where its value comes from."""

    source: str = Field(description="'applicant.<name|national_code|mobile>' or "
                                    "'fields.<form field>'")
    label: Text = Field(description="The Persian label printed before the value")


class OutputSpec(Model):
    """The document a service delivers when a request is approved or completed.

    A letter has a body; its `{placeholders}` are the holder, the national code, the
    document's number, its dates, the service's and the agency's names, the tracking code,
    and the form's fields by name. A card has no body: it has no room for one.
    """

    kind: OutputKind
    title: Text = Field(description="Printed at the top, e.g. «کارت راهنمای گردشگری»")
    validity_days: int | None = Field(
        None, ge=1, le=36500, description="How long the document is valid; none: no expiry")
    fields: list[OutputField] = Field(default_factory=list, max_length=8)
    body: Text | None = Field(None, max_length=3000,
                              description="A letter's text, with {placeholders}")
    download_code: bool = Field(
        False, description="Before the citizen downloads the document, a one-time code by "
                           "SMS to the applicant's mobile (besides the applicant check)")

    @model_validator(mode="after")
    def _body_fits_kind(self) -> OutputSpec:
        if self.kind is OutputKind.letter and not self.body:
            raise ValueError("a letter needs a body")
        if self.kind is OutputKind.card and self.body:
            raise ValueError("a card has no room for a body; list its fields instead")
        return self

    def placeholders(self) -> list[str]:
        """The names the body's `{placeholders}` use; ValueError on a stray brace."""
        from string import Formatter

        if not self.body:
            return []
        try:
            parsed = list(Formatter().parse(self.body))
        except ValueError as exc:
            raise ValueError(f"output body: {exc} (write a brace as {{{{ or }}}})") from None
        names = [name for _, name, spec, conversion in parsed if name is not None]
        if any(not name for name in names):
            raise ValueError("output body: an empty {} names no value")
        if any(spec or conversion for _, name, spec, conversion in parsed if name):
            raise ValueError("output body: write a placeholder as {name}, without ':' or '!'")
        return names


class ServiceSpec(Model):
    """A service, with every field the e-service-desk directive requires."""

    slug: Slug = Field(description="Permanent identifier; never reused for another service")
    title: Text
    category: Slug
    summary: Text
    national_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{4,20}$")] | None = Field(
        None, description="The service's identifier in the national services catalog "
                          "(شناسه خدمت), digits only")
    channels: list[Channel] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    documents: list[Document] = Field(default_factory=list)
    laws: list[Law] = Field(min_length=1)
    faq: list[Faq] = Field(min_length=1)
    duration: Duration
    fees: Fees
    complaint: Complaint
    responsible: Responsible
    form: list[FormField] = Field(default_factory=list)
    survey: Survey | None = None
    inquiries: list[InquirySpec] = Field(default_factory=list)
    sms: SmsSpec | None = None
    output: OutputSpec | None = Field(
        None, description="The document delivered when a request is approved or completed")
    keywords: list[Text] = Field(default_factory=list, description="Extra words for search")

    @model_validator(mode="after")
    def _unique_names(self) -> ServiceSpec:
        for label, names in (
            ("step", [s.id for s in self.steps]),
            ("form field", [f.name for f in self.form]),
            ("document", [d.id for d in self.documents]),
            ("channel", [c.value for c in self.channels]),
            ("inquiry", [i.id for i in self.inquiries]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{label} listed twice: {', '.join(repeated)}")
        problems = [p for i in self.inquiries for p in self._inquiry_problems(i)]
        problems += self._sms_problems()
        problems += self._output_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _inquiry_problems(self, inquiry: InquirySpec) -> list[str]:
        fields = {f"fields.{f.name}" for f in self.form}
        steps, documents = {s.id for s in self.steps}, {d.id for d in self.documents}
        problems = [f"inquiry {inquiry.id!r}: {name} comes from unknown {source!r}"
                    for name, source in inquiry.inputs.items()
                    if source not in fields and source not in APPLICANT_SOURCES]
        if inquiry.at_step is not None and inquiry.at_step not in steps:
            problems.append(f"inquiry {inquiry.id!r} runs at unknown step {inquiry.at_step!r}")
        problems += [f"inquiry {inquiry.id!r} replaces unknown document {d!r}"
                     for d in inquiry.replaces_documents if d not in documents]
        return problems

    def _sms_problems(self) -> list[str]:
        from shared.sms_texts import DEFAULT_TEMPLATES

        if self.sms is None:
            return []
        steps = {s.id for s in self.steps}
        problems = [f"sms announces unknown step {s!r}" for s in self.sms.steps
                    if s not in steps]
        problems += [f"sms announces unknown event {e!r}" for e in self.sms.events or []
                     if e not in DEFAULT_TEMPLATES]
        return problems

    def _output_problems(self) -> list[str]:
        if self.output is None:
            return []
        fields = {f.name for f in self.form}
        sources = {*APPLICANT_SOURCES, *(f"fields.{name}" for name in fields)}
        problems = [f"output field {f.label!r} comes from unknown {f.source!r}"
                    for f in self.output.fields if f.source not in sources]
        try:
            names = self.output.placeholders()
        except ValueError as exc:
            return [*problems, str(exc)]
        problems += [f"output body names unknown {{{name}}}; known: "
                     f"{', '.join([*OUTPUT_PLACEHOLDERS, *sorted(fields)])}"
                     for name in names if name not in OUTPUT_PLACEHOLDERS and name not in fields]
        return problems

    def inquiry_replacing(self, document_id: str) -> InquirySpec | None:
        """The inquiry that makes document `document_id` unnecessary, if any."""
        return next((i for i in self.inquiries if document_id in i.replaces_documents), None)

    @property
    def documents_to_ask(self) -> list[Document]:
        """The documents the citizen must still provide: none an inquiry replaces."""
        return [d for d in self.documents if self.inquiry_replacing(d.id) is None]

    def step_position(self, step_id: str) -> int:
        """Where step `step_id` stands in the workflow (0 = first); ValueError if unknown."""
        for position, step in enumerate(self.steps):
            if step.id == step_id:
                return position
        raise ValueError(f"service {self.slug!r} has no step {step_id!r}")

    def step_after(self, step_id: str) -> Step | None:
        """The step that follows `step_id`; None after the last one."""
        position = self.step_position(step_id) + 1
        return self.steps[position] if position < len(self.steps) else None

    @property
    def step_after_filing(self) -> Step:
        """Where a request stands once filed: the step after the citizen's first one (the
        only step of a one-step service)."""
        return self.steps[min(1, len(self.steps) - 1)]


class PriorityClass(Model):
    """People served before others: the elderly, people with disabilities, veterans …"""

    slug: Slug
    title: Text


class QueueSpec(Model):
    """A walk-in queue: its ticket prefix, the services it serves, who goes first."""

    slug: Slug
    title: Text
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]$")] = Field(
        description="Latin letter on tickets and in the API, e.g. A")
    prefix_fa: Annotated[str, StringConstraints(min_length=1, max_length=3)] = Field(
        description="Persian letter on screens and printed tickets, e.g. الف")
    services: list[Slug] = Field(min_length=1)
    priority_classes: list[Slug] = Field(default_factory=list)
    max_consecutive_priority: int = Field(
        3, ge=1, le=20,
        description="At most this many priority tickets are called in a row while others wait")
    opening_hours: OpeningHours | None = Field(
        None, description="When tickets are handed out; the calendar's hours when absent")

    def is_open(self, at: datetime, calendar: WorkCalendar) -> bool:
        """Whether tickets are handed out at `at`: a working day, within the queue's own
        hours (the calendar's hours of that day when the queue has none)."""
        local = at.astimezone(calendar.zone)
        hours = calendar.hours_on(local.date())
        if hours is None:
            return False
        if self.opening_hours is not None:
            hours = (self.opening_hours.opens, self.opening_hours.closes)
        return hours[0] <= local.time() < hours[1]

    def ticket_label(self, number: int, persian: bool = True) -> str:
        """The ticket's number as called: «الف-۰۲۳» on screens and paper, "A-023" in the API."""
        return ticket_label(self.prefix_fa if persian else self.prefix, number, persian)


def ticket_label(prefix: str, number: int, persian: bool = False) -> str:
    """A ticket's label from its queue's prefix: "A-023", or «الف-۰۲۳» with `persian`."""
    digits = f"{number:03d}"
    return f"{prefix}-{to_persian_digits(digits) if persian else digits}"


class Office(Model):
    """A branch where people come in person; its queues, counters, kiosks and boards."""

    slug: Slug
    name: Text
    address: Text
    queues: list[Slug] = Field(default_factory=list, description="Empty: every queue")


class Catalog(Model):
    """The whole catalog: agency, calendar, categories, services, and the walk-in lobby."""

    agency: Agency
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    categories: list[Category] = Field(min_length=1)
    services: list[ServiceSpec] = Field(min_length=1)
    priority_classes: list[PriorityClass] = Field(default_factory=list)
    queues: list[QueueSpec] = Field(default_factory=list)
    offices: list[Office] = Field(default_factory=list)
    survey: Survey | None = Field(
        None, description="The satisfaction survey of every service that has none of its own")

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        problems: list[str] = []
        category_slugs = [c.slug for c in self.categories]
        service_slugs = [s.slug for s in self.services]
        for label, slugs in (("category", category_slugs), ("service", service_slugs)):
            repeated = sorted({s for s in slugs if slugs.count(s) > 1})
            if repeated:
                problems.append(f"{label} slug listed twice: {', '.join(repeated)}")
        for service in self.services:
            if service.category not in category_slugs:
                problems.append(
                    f"service {service.slug!r} names unknown category {service.category!r}"
                )
        problems += self._lobby_problems(set(service_slugs))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _lobby_problems(self, service_slugs: set[str]) -> list[str]:
        problems: list[str] = []
        classes = {c.slug for c in self.priority_classes}
        queue_slugs = [q.slug for q in self.queues]
        served: dict[str, str] = {}
        for label, values in (("queue slug", queue_slugs),
                              ("queue prefix", [q.prefix for q in self.queues]),
                              ("office slug", [o.slug for o in self.offices])):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                problems.append(f"{label} listed twice: {', '.join(repeated)}")
        for queue in self.queues:
            for slug in queue.services:
                if slug not in service_slugs:
                    problems.append(f"queue {queue.slug!r} names unknown service {slug!r}")
                elif slug in served:
                    problems.append(f"service {slug!r} is in two queues: "
                                    f"{served[slug]!r} and {queue.slug!r}")
                served[slug] = queue.slug
            for slug in set(queue.priority_classes) - classes:
                problems.append(f"queue {queue.slug!r} names unknown priority class {slug!r}")
        for office in self.offices:
            for slug in set(office.queues) - set(queue_slugs):
                problems.append(f"office {office.slug!r} names unknown queue {slug!r}")
        if self.queues and not self.offices:
            problems.append("queues need at least one office (offices.yaml)")
        return problems

    def service(self, slug: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.slug == slug), None)

    def queue_for(self, service: str, office: Office | None = None) -> QueueSpec | None:
        """The walk-in queue that serves `service` (at `office`, when one is given), if any."""
        queue = next((q for q in self.queues if service in q.services), None)
        if queue is not None and office is not None and queue not in self.queues_of(office):
            return None
        return queue

    def survey_for(self, service: str | None) -> Survey | None:
        """The service's own survey, else the catalog's default one."""
        spec = self.service(service) if service else None
        return (spec.survey if spec and spec.survey else None) or self.survey

    def office(self, slug: str) -> Office | None:
        return next((o for o in self.offices if o.slug == slug), None)

    def queues_of(self, office: Office) -> list[QueueSpec]:
        return [q for q in self.queues if not office.queues or q.slug in office.queues]
