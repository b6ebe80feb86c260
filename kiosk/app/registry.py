"""The one registry of screens: name → the class in `screens/<module>.py`, whose kv rules are
in `screens/<module>.kv` beside it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

SCREENS_PACKAGE = "kiosk.app.screens"
SCREENS_FOLDER = Path(__file__).with_name("screens")


@dataclass(frozen=True)
class ScreenSpec:
    name: str
    module: str
    cls: str
    title: str  # for the screenshots' index

    @property
    def kv(self) -> Path:
        return SCREENS_FOLDER / f"{self.module}.kv"


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("home", "home", "HomeScreen", "Home"),
    ScreenSpec("categories", "categories", "CategoriesScreen", "Catalog: categories"),
    ScreenSpec("services", "services", "ServicesScreen", "Catalog: services of a category"),
    ScreenSpec("search", "search", "SearchScreen", "Search"),
    ScreenSpec("service", "service", "ServiceScreen", "Catalog: the service page"),
    ScreenSpec("question", "question", "QuestionScreen", "Apply: one question"),
    ScreenSpec("documents", "documents", "DocumentsScreen", "Apply: documents"),
    ScreenSpec("review", "review", "ReviewScreen", "Apply: review"),
    ScreenSpec("filed", "filed", "FiledScreen", "Apply: tracking code and receipt"),
    ScreenSpec("ticket", "ticket", "TicketScreen", "Ticket: pick a service"),
    ScreenSpec("priority", "priority", "PriorityScreen", "Ticket: priority"),
    ScreenSpec("ticket_mobile", "ticket_mobile", "TicketMobileScreen",
               "Ticket: a mobile for the queue's SMS"),
    ScreenSpec("ticket_done", "ticket_done", "TicketDoneScreen", "Ticket: printed"),
    ScreenSpec("track", "track", "TrackScreen", "Track: scan or type the code"),
    ScreenSpec("track_result", "track_result", "TrackResultScreen", "Track: status and steps"),
    ScreenSpec("hand_over", "hand_over", "HandOverScreen",
               "Track: the national code, then the delivery slip"),
    ScreenSpec("verify", "verify", "VerifyScreen", "Verify a delivered document's seal"),
    ScreenSpec("survey", "survey", "SurveyScreen", "Survey"),
    ScreenSpec("thanks", "thanks", "ThanksScreen", "Thanks"),
)
_loaded_kv: set[str] = set()


def spec(name: str) -> ScreenSpec:
    return next(s for s in SCREENS if s.name == name)


def screen_class(item: ScreenSpec) -> type:
    """The screen's class, with its kv file loaded (once per process)."""
    from kivy.lang import Builder

    module = importlib.import_module(f"{SCREENS_PACKAGE}.{item.module}")
    if item.module not in _loaded_kv:
        Builder.load_file(str(item.kv))
        _loaded_kv.add(item.module)
    cls: type = getattr(module, item.cls)
    return cls
