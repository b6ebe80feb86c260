"""Learning revocations and the seal keys, beside the catalog (`GET /api/v1/revocations`).

A kiosk checks a delivered document's seal with no network (`kiosk.usecases.seal_check`), so
it keeps what the check needs: every revocation the server made, and the seal keys it
trusts. Both live in their own tables, never in the catalog cache: a catalog rolled back to
an older version must never un-revoke a document, and a revocation once learned is never
removed.

Each round asks for the revocations after the stored cursor and keeps them with the new
cursor in one transaction; learning one twice changes nothing (its id is the key), so a
crash between the answer and the commit costs a replay. The seal keys are pinned: those of
`seal_public_key` in the kiosk's configuration when it names one, else those the first
answer gave. A later answer with other keys changes nothing and is reported, so a server
that was taken over cannot make the kiosk believe its seals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.local.store import REVOCATIONS_CURSOR, KioskStore, Revocation
from kiosk.sync.api_client import REVOCATIONS_PATH, ApiClient, endpoint_missing, parse_time
from shared.seals import key_id, load_public_key

MAX_PAGES = 50  # a round takes at most this many pages; the next round goes on


@dataclass
class Learned:
    """What one pull learned: new revocations, whether keys were pinned, what was odd."""

    added: int = 0
    pinned: bool = False
    problems: list[str] | None = None


def key_ids(pems: list[str]) -> dict[str, str]:
    """PEM by key id (hex) for each P-256 public key in `pems`; others are left out."""
    found = {}
    for pem in pems:
        try:
            key: ec.EllipticCurvePublicKey = load_public_key(pem)
        except ValueError:
            continue
        found[key_id(key).hex()] = pem
    return found


def _revocations(items: object) -> list[Revocation]:
    kept = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        at = parse_time(item.get("revoked_at"))
        if isinstance(item.get("id"), str) and isinstance(item.get("number"), str) and at:
            reason = item.get("reason")
            kept.append(Revocation(item["id"], item["number"], at,
                                   reason if isinstance(reason, str) else None))
    return kept


def pull(api: ApiClient, store: KioskStore, clock: Callable[[], datetime]) -> Learned:
    """Ask for the revocations after the stored cursor until none is left; Unreachable
    when the server cannot be reached, Learned.problems for answers it could not use."""
    learned = Learned(problems=[])
    assert learned.problems is not None
    for _ in range(MAX_PAGES):
        cursor = store.state(REVOCATIONS_CURSOR)
        path = REVOCATIONS_PATH + (f"?since={quote(cursor, safe='')}" if cursor else "")
        reply = api.get(path)
        if endpoint_missing(reply):
            return learned  # an older server: no delivered documents to know of
        if reply.status == 400 and reply.error_code == "invalid_cursor":
            store.set_state({REVOCATIONS_CURSOR: None})  # from the first again; kept stay
            learned.problems.append("revocations: the cursor was refused; asking from the first")
            continue
        answer = reply.data
        if reply.status != 200 or not isinstance(answer, dict):
            learned.problems.append(f"revocations: {reply.error_text}")
            return learned
        _keys(store, answer.get("seal_keys"), clock(), learned)
        next_cursor = answer.get("cursor")
        learned.added += store.add_revocations(
            _revocations(answer.get("revocations")),
            next_cursor if isinstance(next_cursor, str) else None, clock())
        if not answer.get("more"):
            return learned
    return learned


def _keys(store: KioskStore, pems: object, at: datetime, learned: Learned) -> None:
    offered = key_ids([p for p in pems if isinstance(p, str)] if isinstance(pems, list) else [])
    if not offered:
        return
    if store.pin_seal_keys(offered, at):
        learned.pinned = True
        return
    unknown = set(offered) - set(store.seal_keys())
    if unknown:
        assert learned.problems is not None
        learned.problems.append("revocations: the server offers seal keys this kiosk has not "
                                f"pinned ({', '.join(sorted(unknown))}); they are not trusted")
