"""Catalog, second level: the services of one category."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import Tile
from kiosk.app.widgets.service_page import fee_summary
from shared.catalog.schema import ServiceSpec
from shared.text import format_duration


def service_tile(service: ServiceSpec) -> Tile:
    duration = format_duration(service.duration.value, service.duration.unit.value)
    return Tile(title=service.title, value=service.slug,
                subtitle=f"زمان انجام: {duration} | هزینه: {fee_summary(service)}")


class ServicesScreen(KioskScreen):
    title = StringProperty("")
    description = StringProperty("")

    def refresh(self) -> None:
        box = self.ids.tiles
        box.clear_widgets()
        catalog = self.state.catalog
        category = next((c for c in catalog.categories if c.slug == self.state.category),
                        None) if catalog else None
        self.title = category.title if category else "خدمت‌ها"
        self.description = category.description or "" if category else ""
        if catalog is None:
            return
        for service in catalog.services:
            if service.category == self.state.category:
                tile = service_tile(service)
                tile.bind(on_tap=lambda t: self.open(t.value))
                box.add_widget(tile)
        self.ids.scroll.scroll_y = 1

    def open(self, slug: str) -> None:
        self.state.service_slug = slug
        self.ui.nav.go("service")
