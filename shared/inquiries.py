"""Inquiries (استعلام): what Miz asks other agencies instead of asking the citizen for papers.

Each `InquiryKind` names the agency that answers it (its `target`, which is also the name of
its circuit breaker and quota), the inputs it needs, the shape of the agency's reply, and how
a reply reads as a verdict in plain Persian. The catalog's `inquiries:` entries name a kind;
the server's adapters, the agencies' stand-in and the pages all read the kinds from here.

The exchange protocol (the government service bus, as the stand-in speaks it):

    POST {base}/inquiries/{kind}        Authorization: Bearer <credential>
    {"message_id": "<uuid>", "inputs": {...}}            X-Message-Id: <uuid>
    → 200 {"message_id", "reply_id", "kind", "answered_at", "result": {...}}
          X-Signature: <base64 Ed25519 signature of the body>, X-Signature-Key: <key id>
    → 400 {"error": "invalid_input", "message"}   a permanent refusal
    → 429 / 5xx / time-out                        temporary: asked again later

The same `message_id` asked twice gets the same reply (the bus is idempotent by message).

In detail (what the stand-in enforces and Miz's adapter, `counter_server.agencies`, relies on):

- `message_id` is a UUID, equal in the body and in X-Message-Id; `inputs` holds exactly the
  kind's inputs, as text in the canonical forms of `shared.validators` (ASCII digits, mobile
  as 09xxxxxxxxx, dates Jalali "YYYY-MM-DD") — the bus normalises nothing.
- `reply_id` is the agency's own id of its answer and `answered_at` an ISO 8601 UTC instant.
  The signature covers the exact bytes of the body as sent (no content encoding: Miz asks
  for `Accept-Encoding: identity`); the agencies publish their public keys, by key id, out of
  band (the stand-in at `GET {base}/keys`: {"keys": {"<key id>": "<PEM>"}}). A reply whose
  `message_id` or `kind` is not the one asked is not an answer to it.
- 400 `error` codes: `invalid_input` (an input is missing, extra or malformed) and
  `not_found` (an agency that keeps records of people has none under this national code).
  Other refusals are as permanent: 401/403 `unauthorized` (the credential), 404
  `unknown_kind`, 409 `message_reused` (the message id was used for another question).
  A 429 may say `Retry-After` in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError


class Reply(BaseModel):
    """Base of every kind's result: unknown keys are tolerated, wrong types are not."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class IdentityResult(Reply):
    found: bool
    alive: bool = True
    birth_date_matches: bool = False
    first_name: str | None = None
    last_name: str | None = None


class MobileOwnerResult(Reply):
    matches: bool


class PostalAddressResult(Reply):
    found: bool
    address: str | None = None


class CriminalRecordResult(Reply):
    clean: bool


class MilitaryServiceResult(Reply):
    status: Literal["completed", "exempt", "not_required", "student", "absent", "serving"]


class TaxClearanceResult(Reply):
    cleared: bool
    debt_rials: int = 0


class BusinessLicenceResult(Reply):
    valid: bool
    holder_matches: bool = False
    expires: str | None = None  # Jalali date, e.g. 1406-05-01


class Verdict(StrEnum):
    passed = "passed"  # what was asked holds
    refused = "refused"  # the agency answered, and it does not hold


@dataclass(frozen=True)
class Reading:
    """A reply read for people: the verdict and one Persian sentence (no personal data)."""

    verdict: Verdict
    summary: str


@dataclass(frozen=True)
class InquiryKind:
    slug: str
    title: str  # «تطابق شماره همراه با کد ملی»
    agency: str  # «شاهکار (سامانه احراز هویت مشترکان)»
    target: str  # the outside system: its circuit, its quota
    inputs: tuple[str, ...]  # names the catalog maps to applicant or form fields
    result: type[Reply]
    read: Callable[[Any], Reading]
    manual_check: str  # what a clerk checks by hand when the inquiry cannot be done

    def parse(self, data: Any) -> Reply:
        """The agency's result, validated; ValueError naming what is wrong."""
        try:
            return self.result.model_validate(data)
        except ValidationError as exc:
            raise ValueError(f"{self.slug} reply does not match its schema: {exc}") from None


def _held(ok: bool, title: str, yes: str = "تأیید شد", no: str = "تأیید نشد") -> Reading:
    return Reading(Verdict.passed if ok else Verdict.refused, f"{title}: {yes if ok else no}")


def _identity(r: IdentityResult) -> Reading:
    if not r.found:
        return Reading(Verdict.refused, "احراز هویت: کد ملی در ثبت احوال یافت نشد")
    if not r.alive:
        return Reading(Verdict.refused, "احراز هویت: فرد در قید حیات نیست")
    return _held(r.birth_date_matches, "احراز هویت (کد ملی و تاریخ تولد)")


def _military(r: MilitaryServiceResult) -> Reading:
    labels = {"completed": "پایان خدمت", "exempt": "معاف", "not_required": "مشمول نیست",
              "student": "معافیت تحصیلی", "absent": "غایب", "serving": "در حال خدمت"}
    ok = r.status in ("completed", "exempt", "not_required")
    return Reading(Verdict.passed if ok else Verdict.refused,
                   f"وضعیت نظام وظیفه: {labels[r.status]}")


def _licence(r: BusinessLicenceResult) -> Reading:
    return _held(r.valid and r.holder_matches, "اعتبار مجوز کسب‌وکار و تطابق دارنده")


KINDS: dict[str, InquiryKind] = {k.slug: k for k in (
    InquiryKind("identity", "احراز هویت", "ثبت احوال", "sabt-ahval",
                ("national_code", "birth_date"), IdentityResult, _identity,
                "کارت ملی متقاضی را ببینید و نام و تاریخ تولد را با فرم مقایسه کنید."),
    InquiryKind("mobile_owner", "تطابق شماره همراه با کد ملی", "شاهکار", "shahkar",
                ("national_code", "mobile"), MobileOwnerResult,
                lambda r: _held(r.matches, "تطابق شماره همراه با کد ملی"),
                "با شماره همراه تماس بگیرید و نام صاحب خط را بپرسید."),
    InquiryKind("postal_address", "نشانی از کد پستی", "شرکت ملی پست", "post",
                ("postal_code",), PostalAddressResult,
                lambda r: _held(r.found, "نشانی کد پستی", "دریافت شد", "کد پستی یافت نشد"),
                "نشانی را از قبض یا سند ملک متقاضی ببینید."),
    InquiryKind("criminal_record", "عدم سوءپیشینه کیفری", "قوه قضاییه (سجل کیفری)",
                "judiciary", ("national_code",), CriminalRecordResult,
                lambda r: _held(r.clean, "عدم سوءپیشینه کیفری", "تأیید شد", "سابقه دارد"),
                "گواهی عدم سوءپیشینه کاغذی را از متقاضی بخواهید."),
    InquiryKind("military_service", "وضعیت نظام وظیفه", "سازمان وظیفه عمومی", "nezam-vazifeh",
                ("national_code",), MilitaryServiceResult, _military,
                "کارت پایان خدمت یا معافیت متقاضی را ببینید."),
    InquiryKind("tax_clearance", "مفاصاحساب مالیاتی", "سازمان امور مالیاتی", "tax",
                ("national_code",), TaxClearanceResult,
                lambda r: _held(r.cleared, "مفاصاحساب مالیاتی", "بدهی ندارد", "بدهی دارد"),
                "مفاصاحساب مالیاتی کاغذی را از متقاضی بخواهید."),
    InquiryKind("business_licence", "اعتبار مجوز کسب‌وکار", "درگاه ملی مجوزها",
                "mojavez", ("licence_number", "national_code"), BusinessLicenceResult,
                _licence, "اصل مجوز را ببینید و تاریخ اعتبار و نام دارنده را بررسی کنید."),
)}


def kind(slug: str) -> InquiryKind:
    """The kind named `slug`; KeyError for an unknown one."""
    return KINDS[slug]


def document_not_needed(kind_slug: str) -> str:
    """What a form or a page says of a document an inquiry of `kind_slug` replaces."""
    return f"نیازی به ارائه این مدرک نیست؛ از {KINDS[kind_slug].agency} استعلام می‌شود."
