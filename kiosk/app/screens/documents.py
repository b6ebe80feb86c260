"""Apply: the documents, one per screen — scan, see the pages, scan again, or skip an
optional one. Scanning runs on the worker (a scanner can take a while)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.app.context import message_of
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import show_only
from kiosk.app.widgets.qr import PageThumbnail, thumbnail_image
from kiosk.app.widgets.text import Paragraph
from kiosk.usecases.filing import ONE_PAGE_ONLY
from shared.catalog.labels import DOCUMENT_KINDS
from shared.catalog.schema import FileFormat
from shared.text import to_persian_digits

REQUIRED_MISSING = "این مدرک الزامی است؛ لطفاً آن را اسکن کنید. بدون آن درخواست ثبت نمی‌شود."
THUMBNAILS_SHOWN = 4


class DocumentsScreen(KioskScreen):
    document = ObjectProperty(None, allownone=True)
    progress = StringProperty("")
    doc_name = StringProperty("")
    description = StringProperty("")
    need = StringProperty("")
    pages = NumericProperty(0)
    scanned = BooleanProperty(False)
    can_add = BooleanProperty(False)
    optional = BooleanProperty(False)
    service_title = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self.state.fbind("thumbnails", self._show_pages)

    def documents(self) -> list[Any]:
        service = self.state.service
        return list(service.documents_to_ask) if service is not None else []

    def refresh(self) -> None:
        documents = self.documents()
        if not documents:
            return
        index = min(max(0, int(self.state.document_index)), len(documents) - 1)
        self.state.document_index = index
        document = documents[index]
        self.document = document
        self.service_title = self.state.service.title
        self.progress = (f"مدرک {to_persian_digits(index + 1)} از "
                         f"{to_persian_digits(len(documents))}")
        self.doc_name = document.name
        self.description = document.description
        self.optional = not document.mandatory
        need = "الزامی" if document.mandatory else "اختیاری"
        self.need = f"{need} — {DOCUMENT_KINDS[document.kind]}"
        if document.count > 1:
            self.need += f" — تا {to_persian_digits(document.count)} برگ جدا"
        self.state.document_error = ""
        self._show_pages()

    def _show_pages(self, *_: Any) -> None:
        document = self.document
        if document is None:
            return
        scans = self.state.scans.get(document.id, [])
        thumbnails = self.state.thumbnails.get(document.id, [])
        self.pages = sum(scan.page_count for scan in scans)
        self.scanned = bool(scans)
        self.can_add = self.scanned and len(scans) < document.count
        ids = self.ids
        show_only(ids.actions, [(ids.scan, True), (ids.add_page, self.can_add),
                                (ids.skip, not document.mandatory)])
        box = self.ids.pages
        box.clear_widgets()
        for picture in thumbnails[:THUMBNAILS_SHOWN]:
            box.add_widget(PageThumbnail(thumbnail=picture))
        if scans and not thumbnails:
            box.add_widget(Paragraph(ltext="سند PDF دریافت شد.", align="center"))
        self.ids.pages_note.ltext = (
            f"{to_persian_digits(self.pages)} صفحه اسکن شد." if scans else
            "مدرک را رو به پایین روی شیشهٔ اسکنر بگذارید و «اسکن مدرک» را بزنید.")

    # -- actions ---------------------------------------------------------------------------

    def scan(self, add: bool = False) -> None:
        """Scan now; the new scan replaces the old one, or is added as more pages."""
        document = self.document
        if document is None:
            return
        self.state.document_error = ""
        kiosk = self.ui.kiosk

        def work() -> tuple[Any, list[Any]]:
            scanned = kiosk.scan_document()
            return scanned, [thumbnail_image(page) for page in scanned.pages[:THUMBNAILS_SHOWN]]

        def done(result: tuple[Any, list[Any]]) -> None:
            scanned, thumbnails = result
            if FileFormat.pdf not in document.formats and scanned.page_count > 1:
                # Only an image fits this slot (a photo, say): one page, or it is refused later.
                self.state.document_error = ONE_PAGE_ONLY.format(name=document.name)
                return
            scans = list(self.state.scans.get(document.id, [])) if add else []
            pictures = list(self.state.thumbnails.get(document.id, [])) if add else []
            self.state.scans[document.id] = scans + [scanned]
            self.state.thumbnails[document.id] = pictures + thumbnails
            if document.id in self.state.skipped:
                self.state.skipped.remove(document.id)

        def failed(exc: BaseException) -> None:
            self.state.document_error = message_of(exc)

        self.ui.worker.run(work, done, failed, busy_text="در حال اسکن مدرک…")

    def skip(self) -> None:
        """An optional document the citizen does not have."""
        document = self.document
        if document is None or document.mandatory:
            return
        self.state.scans.pop(document.id, None)
        self.state.thumbnails.pop(document.id, None)
        if document.id not in self.state.skipped:
            self.state.skipped.append(document.id)
        self._advance()

    def next(self) -> None:
        document = self.document
        if document is None:
            return
        if document.mandatory and not self.state.scans.get(document.id):
            self.state.document_error = REQUIRED_MISSING
            return
        self._advance()

    def _advance(self) -> None:
        question = self.ui.screen("question")
        if question.return_to_review:
            question.return_to_review = False
            self.ui.nav.go("review", remember=False)
        elif self.state.document_index + 1 < len(self.documents()):
            self.state.document_index += 1
            self.refresh()
        else:
            self.ui.nav.go("review")

    def previous(self) -> None:
        if self.state.document_index > 0:
            self.state.document_index -= 1
            self.refresh()
        else:
            self.ui.nav.back()

    def edit(self, document_id: str) -> None:
        """From the review: show one document, then return to the review."""
        ids = [d.id for d in self.documents()]
        if document_id in ids:
            self.state.document_index = ids.index(document_id)
            self.ui.screen("question").return_to_review = True
            self.ui.nav.go("documents", remember=False)


