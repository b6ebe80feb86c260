"""Checking a delivered document's seal at the kiosk, with no network.

The seal's text (the QR on the document, `<base>/v/<id>#<digits>`, see `shared/seals.py`)
is checked with the seal keys the kiosk trusts — `seal_public_key` in its configuration,
else those pinned at its first sync — and against the revocations it has learned
(`kiosk.sync.revocations`). The outcome is one of

- `valid`: the seal is genuine, not revoked, not past its expiry date;
- `revoked`: genuine, but the agency revoked the document (with its reason);
- `expired`: genuine, past its expiry date (Tehran's date, by the kiosk's corrected clock);
- `refused`: not to be believed — changed (`seal_signature_invalid`), signed by another key
  (`seal_unknown_key`), not a seal (`seal_malformed`), or no key to check with (`no_seal_key`).

The facts are shown only for a genuine seal. Revocations learned after the last sync are
unknown offline: the verdict says when the kiosk last heard from the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kiosk.config import KioskConfig
from kiosk.local.store import LAST_SYNC, KioskStore, Revocation
from kiosk.sync.api_client import parse_time
from shared.jalali import format_date, format_datetime, to_local
from shared.seals import KIND_LABELS, SealError, SealFacts, read_seal
from shared.text import to_persian_digits

NO_SEAL_KEY = ("این کیوسک هنوز کلید مهر اسناد را ندارد و نمی‌تواند سند را بررسی کند؛ "
               "لطفاً به پذیرش مراجعه کنید.")
HEADLINES = {
    "valid": "این سند معتبر است.",
    "revoked": "این سند باطل شده است؛ آن را معتبر ندانید.",
    "expired": "مهلت اعتبار این سند گذشته است.",
    "refused": "این مهر پذیرفته نیست.",
}


@dataclass(frozen=True)
class Verdict:
    """What a seal's check found; `facts` only for a genuine seal."""

    outcome: str  # valid, revoked, expired, refused
    headline: str
    reason: str | None = None  # the refusal's or the revocation's, Persian
    code: str | None = None  # the refusal's stable code
    facts: SealFacts | None = None
    revocation: Revocation | None = None
    last_sync: datetime | None = None

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) of each fact, Persian, as the screen and the command show them."""
        facts = self.facts
        if facts is None:
            return []
        rows = [("نوع سند", KIND_LABELS[facts.kind]),
                ("شماره سند", to_persian_digits(facts.number)),
                ("دارنده", facts.holder),
                ("کد ملی دارنده", to_persian_digits(facts.masked_national_code)),
                ("تاریخ صدور", format_date(facts.issued_on)),
                ("اعتبار تا", format_date(facts.expires_on) if facts.expires_on
                 else "بدون تاریخ انقضا")]
        if self.revocation is not None:
            rows.append(("تاریخ ابطال", format_datetime(self.revocation.revoked_at)))
        return rows

    def freshness(self) -> str:
        """When the kiosk last learned revocations, for the citizen to weigh a «valid»."""
        if self.last_sync is None:
            return "این کیوسک هنوز فهرست اسناد باطل‌شده را از سامانه نگرفته است."
        return f"فهرست اسناد باطل‌شده به‌روز تا {format_datetime(self.last_sync)}"


def trusted_keys(config: KioskConfig, store: KioskStore) -> list[str]:
    """The seal keys (PEM) to check with: the configuration's, else the pinned ones."""
    if config.seal_public_key:
        return [config.seal_public_key]
    return list(store.seal_keys().values())


def check(config: KioskConfig, store: KioskStore, text: str, now: datetime) -> Verdict:
    """The verdict on the seal `text` at `now` (the kiosk's clock, corrected)."""
    last_sync = parse_time(store.state(LAST_SYNC))
    keys = trusted_keys(config, store)
    if not keys:
        return Verdict("refused", HEADLINES["refused"], NO_SEAL_KEY, "no_seal_key",
                       last_sync=last_sync)
    try:
        facts = read_seal(text, keys)
    except SealError as exc:
        return Verdict("refused", HEADLINES["refused"], exc.message, exc.code,
                       last_sync=last_sync)
    revoked = store.revocation(facts.document_id)
    if revoked is not None:
        reason = f"دلیل ابطال: {revoked.reason}" if revoked.reason else None
        return Verdict("revoked", HEADLINES["revoked"], reason, facts=facts,
                       revocation=revoked, last_sync=last_sync)
    if _expired(facts, to_local(now).date()):
        return Verdict("expired", HEADLINES["expired"], facts=facts, last_sync=last_sync)
    return Verdict("valid", HEADLINES["valid"], facts=facts, last_sync=last_sync)


def _expired(facts: SealFacts, today: date) -> bool:
    return facts.expires_on is not None and today > facts.expires_on
