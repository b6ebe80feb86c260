"""Faults the stand-in can be told to make: the plan (see `standin`'s docstring for its JSON
shape), checked, drawn from seeded RNGs so a run can be repeated, and thread-safe."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.inquiries import KINDS, InquiryKind

# Typical answering times of the agencies behind the bus (milliseconds), by target.
AGENCY_LATENCY_MS = {"sabt-ahval": 120, "shahkar": 40, "post": 150, "judiciary": 300,
                     "nezam-vazifeh": 200, "tax": 250, "mojavez": 180}

ALL = "all"
RATE_FAULTS = ("timeout", "error_5xx", "rate_limited", "malformed", "wrong_schema",
               "bad_signature")
DELAYS = ("latency_ms", "slow_ms")
MAX_DELAY_MS = 600_000


@dataclass
class Pending:
    fault: str
    count: int
    kind: str | None = None  # None: any kind


class FaultPlan:
    """The faults switched on (thread-safe). `update` takes the JSON shape of the module's
    docstring and raises ValueError, changing nothing, when any part of it is wrong."""

    def __init__(self, plan: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.scopes: dict[str, dict[str, float]] = {}
        self.pending: list[Pending] = []
        self.hang_seconds = 30.0
        self._faults_rng, self._jitter_rng = random.Random(0), random.Random(0)
        self.update(plan or {})

    def update(self, plan: Mapping[str, Any]) -> None:
        scopes, pending, hang, seed = _checked_plan(plan)
        with self._lock:
            for scope, values in scopes.items():
                self.scopes.setdefault(scope, {}).update(values)
            self.pending.extend(pending)
            self.hang_seconds = self.hang_seconds if hang is None else hang
            if seed is not None:
                self._faults_rng, self._jitter_rng = random.Random(seed), random.Random(seed)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            plan: dict[str, Any] = {scope: dict(values) for scope, values in self.scopes.items()}
            plan["next"] = [vars(p).copy() for p in self.pending]
            plan["hang_seconds"] = self.hang_seconds
        return plan

    def _effective(self, kind: str) -> dict[str, float]:
        return {**self.scopes.get(ALL, {}), **self.scopes.get(kind, {})}

    def draw(self, kind: str) -> str | None:
        """The fault this call of `kind` meets, if any."""
        with self._lock:
            for entry in self.pending:
                if entry.kind in (None, kind):
                    entry.count -= 1
                    if entry.count == 0:
                        self.pending.remove(entry)
                    return entry.fault
            rates = self._effective(kind)
            if not any(rates.get(fault) for fault in RATE_FAULTS):
                return None
            point, edge = self._faults_rng.random(), 0.0
            for fault in RATE_FAULTS:
                edge += rates.get(fault, 0.0)
                if point < edge:
                    return fault
        return None

    def delay(self, kind: InquiryKind) -> float:
        """Seconds this call of `kind` takes before it is answered."""
        with self._lock:
            values = self._effective(kind.slug)
            base = values.get("latency_ms", AGENCY_LATENCY_MS.get(kind.target, 100))
            jitter = self._jitter_rng.uniform(0.75, 1.25) if base else 0.0
        return (base * jitter + values.get("slow_ms", 0)) / 1000


def _checked_plan(plan: Mapping[str, Any]) -> tuple[dict, list[Pending], float | None,
                                                    int | None]:
    if not isinstance(plan, Mapping):
        raise ValueError("a fault plan is a JSON object")
    scopes: dict[str, dict[str, float]] = {}
    for scope, values in plan.items():
        if scope in ("next", "seed", "hang_seconds"):
            continue
        if scope != ALL and scope not in KINDS:
            raise ValueError(f"unknown scope {scope!r}: 'all' or one of {', '.join(KINDS)}")
        if not isinstance(values, Mapping):
            raise ValueError(f"{scope}: expected an object of faults")
        scopes[scope] = {name: _checked_value(scope, name, value)
                         for name, value in values.items()}
    if not isinstance(plan.get("next") or [], list):
        raise ValueError("next: a list of {fault, count, kind}")
    pending = [_checked_pending(entry) for entry in plan.get("next") or []]
    hang = plan.get("hang_seconds")
    if hang is not None and not (_number(hang) and 0 <= hang <= 3600):
        raise ValueError("hang_seconds: a number of seconds up to 3600")
    seed = plan.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError("seed: an integer")
    return scopes, pending, None if hang is None else float(hang), seed


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked_value(scope: str, name: str, value: Any) -> float:
    if name in RATE_FAULTS:
        if not (_number(value) and 0 <= value <= 1):
            raise ValueError(f"{scope}.{name}: a rate between 0 and 1")
        return float(value)
    if name in DELAYS:
        if not (_number(value) and 0 <= value <= MAX_DELAY_MS):
            raise ValueError(f"{scope}.{name}: milliseconds between 0 and {MAX_DELAY_MS}")
        return float(value)
    raise ValueError(f"{scope}: unknown fault {name!r}; known: "
                     f"{', '.join(RATE_FAULTS + DELAYS)}")


def _checked_pending(entry: Any) -> Pending:
    if not isinstance(entry, Mapping) or entry.get("fault") not in RATE_FAULTS:
        raise ValueError(f"next: each entry needs a fault among {', '.join(RATE_FAULTS)}")
    count, kind = entry.get("count", 1), entry.get("kind")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("next: count is a positive integer")
    if kind not in (None, ALL) and kind not in KINDS:
        raise ValueError(f"next: unknown kind {kind!r}")
    return Pending(entry["fault"], count, None if kind in (None, ALL) else kind)


def parse_fault_option(text: str) -> dict[str, dict[str, float]]:
    """The CLI's `--fault KIND=NAME[:VALUE][,NAME[:VALUE]…]` as a plan's scope (a rate's
    value defaults to 1); ValueError for a malformed option. KIND may be `all`."""
    scope, sep, faults = text.partition("=")
    if not sep or not scope or not faults:
        raise ValueError("expected KIND=NAME[:VALUE][,…], e.g. mobile_owner=error_5xx:0.2")
    values: dict[str, float] = {}
    for item in faults.split(","):
        name, has_value, value = item.strip().partition(":")
        try:
            values[name] = float(value) if has_value else 1.0
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a number") from None
    plan = {scope.strip(): values}
    _checked_plan(plan)
    return plan


