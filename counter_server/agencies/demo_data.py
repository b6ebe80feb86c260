"""What the agencies behind the stand-in know and how they answer: the demo data set
(`assets/agencies/citizens.yaml`, checked when loaded), the checks of a request's inputs and
one answer function per inquiry kind.

Inputs must come in the canonical forms of `shared.validators` (the bus normalises nothing);
an unknown national code is `not_found` for the agencies that keep records of people, while
the civil registry and Shahkar answer it (not found, no match). The civil registry gives
names only to a caller who also knew the birth date.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from counter_server.config import ASSETS_DIR
from shared.inquiries import InquiryKind
from shared.jalali import from_jalali_string, jalali_string
from shared.validators import clean_mobile, clean_national_code, clean_postal_code

DEMO_DATA = ASSETS_DIR / "agencies" / "citizens.yaml"

MilitaryStatus = Literal["completed", "exempt", "not_required", "student", "absent", "serving"]
LICENCE_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9/-]{2,39}")


def _canonical(clean: Callable[[object], str], value: str) -> str:
    """`value` if it is already in the canonical form `clean` gives; ValueError otherwise."""
    try:
        ok = clean(value) == value
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("not a valid value in canonical form")
    return value


def _jalali(value: str) -> str:
    """A Jalali date as "YYYY-MM-DD"; ValueError otherwise."""
    if jalali_string(from_jalali_string(value)) != value:
        raise ValueError("not a Jalali date written YYYY-MM-DD")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citizen(_Strict):
    national_code: str
    first_name: str
    last_name: str
    sex: Literal["male", "female"]
    birth_date: str
    alive: bool = True
    mobiles: tuple[str, ...] = ()
    criminal_record: bool = False
    military_service: MilitaryStatus | None = None
    tax_debt_rials: int = Field(0, ge=0)
    demonstrates: str

    _code = field_validator("national_code")(lambda v: _canonical(clean_national_code, v))
    _born = field_validator("birth_date")(_jalali)

    @field_validator("mobiles")
    @classmethod
    def _mobiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_canonical(clean_mobile, mobile) for mobile in value)

    @model_validator(mode="after")
    def _military(self) -> Citizen:
        if (self.sex == "male") != (self.military_service is not None):
            raise ValueError("military_service is given for men, and only for men")
        return self


class Unregistered(_Strict):
    national_code: str
    demonstrates: str

    _code = field_validator("national_code")(lambda v: _canonical(clean_national_code, v))


class Licence(_Strict):
    number: str = Field(pattern=LICENCE_NUMBER.pattern)
    title: str
    holder: str
    expires: str
    revoked: bool = False

    _expires = field_validator("expires")(_jalali)


class DemoData(_Strict):
    """The stand-in's world: citizens, unissued codes, addresses by postal code, licences."""

    citizens: tuple[Citizen, ...]
    unregistered: tuple[Unregistered, ...] = ()
    addresses: dict[str, str]
    licences: tuple[Licence, ...] = ()

    @field_validator("addresses")
    @classmethod
    def _postal_codes(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            _canonical(clean_postal_code, code)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DemoData:
        codes = [c.national_code for c in self.citizens]
        if len(set(codes)) != len(codes):
            raise ValueError("a national code is given to two citizens")
        if any(u.national_code in codes for u in self.unregistered):
            raise ValueError("an unregistered national code belongs to a citizen")
        if any(lic.holder not in codes for lic in self.licences):
            raise ValueError("a licence holder is not among the citizens")
        lines = [m for c in self.citizens for m in c.mobiles]
        if len(set(lines)) != len(lines):
            raise ValueError("a mobile line is registered to two citizens")
        return self

    def person(self, national_code: str) -> Citizen | None:
        return next((c for c in self.citizens if c.national_code == national_code), None)

    def licence(self, number: str) -> Licence | None:
        return next((lic for lic in self.licences if lic.number == number), None)


def load_demo_data(path: str | Path = DEMO_DATA) -> DemoData:
    """The data set at `path`, checked; ValueError saying what is wrong."""
    try:
        return DemoData.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None


# --- answers -----------------------------------------------------------------------------


class Refusal(Exception):
    """An error reply: HTTP `status`, the protocol's error `code`, a Persian message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


INPUT_CHECKS: dict[str, Callable[[str], object]] = {
    "national_code": lambda v: _canonical(clean_national_code, v),
    "mobile": lambda v: _canonical(clean_mobile, v),
    "postal_code": lambda v: _canonical(clean_postal_code, v),
    "birth_date": _jalali,
    "licence_number": lambda v: LICENCE_NUMBER.fullmatch(v) or _invalid(),
}


def _invalid() -> None:
    raise ValueError("invalid")


def _known(data: DemoData, national_code: str) -> Citizen:
    person = data.person(national_code)
    if person is None:
        raise Refusal(400, "not_found", "این کد ملی در ثبت احوال یافت نشد.")
    return person


def _identity(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    person = data.person(inputs["national_code"])
    if person is None:
        return {"found": False}
    if person.birth_date != inputs["birth_date"]:  # names only to who knows the birth date
        return {"found": True, "alive": person.alive, "birth_date_matches": False}
    return {"found": True, "alive": person.alive, "birth_date_matches": True,
            "first_name": person.first_name, "last_name": person.last_name}


def _mobile_owner(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    person = data.person(inputs["national_code"])
    return {"matches": person is not None and inputs["mobile"] in person.mobiles}


def _postal_address(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    address = data.addresses.get(inputs["postal_code"])
    return {"found": address is not None, "address": address}


def _criminal_record(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    return {"clean": not _known(data, inputs["national_code"]).criminal_record}


def _military_service(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    return {"status": _known(data, inputs["national_code"]).military_service or "not_required"}


def _tax_clearance(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    debt = _known(data, inputs["national_code"]).tax_debt_rials
    return {"cleared": debt == 0, "debt_rials": debt}


def _business_licence(data: DemoData, inputs: Mapping[str, str], today: str) -> dict[str, Any]:
    found = data.licence(inputs["licence_number"])
    if found is None:
        return {"valid": False, "holder_matches": False}
    return {"valid": not found.revoked and found.expires >= today,
            "holder_matches": found.holder == inputs["national_code"], "expires": found.expires}


Answer = Callable[[DemoData, Mapping[str, str], str], dict[str, Any]]
ANSWERS: dict[str, Answer] = {
    "identity": _identity, "mobile_owner": _mobile_owner, "postal_address": _postal_address,
    "criminal_record": _criminal_record, "military_service": _military_service,
    "tax_clearance": _tax_clearance, "business_licence": _business_licence,
}


def read_request(kind: InquiryKind, body: bytes, header_id: str | None) -> tuple[str, dict]:
    """(message id, inputs) of a request; Refusal (400 invalid_input) naming what is wrong,
    never quoting a value."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad_input("بدنه درخواست JSON نیست.") from None
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), dict):
        raise _bad_input("درخواست باید message_id و inputs داشته باشد.")
    message_id = document.get("message_id")
    if not isinstance(message_id, str) or not _is_uuid(message_id) or header_id != message_id:
        raise _bad_input("شناسه پیام (message_id) باید UUID و برابر سرآیند X-Message-Id باشد.")
    inputs = document["inputs"]
    if sorted(inputs) != sorted(kind.inputs):
        raise _bad_input(f"ورودی‌های این استعلام: {'، '.join(kind.inputs)}.")
    for name in kind.inputs:
        try:
            if not isinstance(inputs[name], str):
                raise ValueError("not text")
            INPUT_CHECKS[name](inputs[name])
        except ValueError:
            raise _bad_input(f"مقدار «{name}» معتبر نیست.") from None
    return message_id, inputs


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _bad_input(message: str) -> Refusal:
    return Refusal(400, "invalid_input", message)


