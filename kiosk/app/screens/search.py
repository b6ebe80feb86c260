"""Search: type with the on-screen Persian keyboard, results update as you type."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.app.screens.base import KioskScreen
from kiosk.app.screens.services import service_tile
from kiosk.app.widgets.keyboard import apply_key
from shared.catalog.search import SearchIndex

MAX_RESULTS = 8
MAX_QUERY = 60


class SearchScreen(KioskScreen):
    message = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self._index: tuple[Any, SearchIndex] | None = None
        self.state.fbind("search_query", self._show)

    def index(self) -> SearchIndex:
        catalog = self.state.catalog
        if self._index is None or self._index[0] is not catalog:
            self._index = (catalog, SearchIndex(catalog))
        return self._index[1]

    def refresh(self) -> None:
        self._show()

    def key(self, key: str) -> None:
        self.state.search_query = apply_key(self.state.search_query, key, MAX_QUERY)

    def _show(self, *_: Any) -> None:
        box = self.ids.results
        box.clear_widgets()
        query = self.state.search_query
        if not query.strip() or self.state.catalog is None:
            self.message = "نام خدمت یا یک کلمه از آن را با صفحه‌کلید زیر بنویسید."
            return
        hits = self.index().search(query, limit=MAX_RESULTS)
        self.message = "" if hits else "خدمتی با این کلمه پیدا نشد؛ کلمهٔ دیگری را امتحان کنید."
        for hit in hits:
            tile = service_tile(hit.service)
            tile.bind(on_tap=lambda t: self.open(t.value))
            box.add_widget(tile)
        self.ids.scroll.scroll_y = 1

    def open(self, slug: str) -> None:
        self.state.service_slug = slug
        self.ui.nav.go("service")
