"""Catalog, first level: the categories of services, as large tiles with their icons."""

from __future__ import annotations

from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import Tile
from shared.text import to_persian_digits


class CategoriesScreen(KioskScreen):
    def refresh(self) -> None:
        box = self.ids.tiles
        box.clear_widgets()
        catalog = self.state.catalog
        if catalog is None:
            return
        for category in sorted(catalog.categories, key=lambda c: (c.order, c.title)):
            count = sum(1 for s in catalog.services if s.category == category.slug)
            icon = self.ui.icons.icon(category.icon) if self.ui.icons is not None else None
            subtitle = f"{to_persian_digits(count)} خدمت"
            if category.description:
                subtitle = f"{category.description} ({subtitle})"
            tile = Tile(title=category.title, subtitle=subtitle, icon=icon or "",
                        value=category.slug)
            tile.bind(on_tap=lambda t: self.open(t.value))
            box.add_widget(tile)
        self.ids.scroll.scroll_y = 1

    def open(self, slug: str) -> None:
        self.state.category = slug
        self.ui.nav.go("services")

    def search(self) -> None:
        self.state.search_query = ""
        self.ui.nav.go("search")
