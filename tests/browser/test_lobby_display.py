"""The lobby live in a real browser: a clerk presses «نفر بعدی» at /desk and the hall's display
board shows the call with no reload; a citizen's ticket page follows its place in line."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.clock import now
from counter_server.context import database
from counter_server.demo import PASSWORD
from counter_server.lobby_events import watcher_for
from counter_server.models import Counter, Ticket, User
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby, TicketOrder
from shared.text import to_persian_digits
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
OFFICE, QUEUE, SERVICE = "isfahan-hq", "tour-guides", "tour-guide-card"
LIVE_TIMEOUT = 5000  # ms: the board polls every 0.3 s


def _new_counter(app: Flask) -> Counter:
    """A counter of its own for the test, so that no earlier ticket keeps it busy."""
    with app.app_context(), database().transaction() as db:
        last = db.scalar(select(func.max(Counter.number)).where(Counter.office_slug == OFFICE))
        number = (last or 0) + 1
        counter = Counter(office_slug=OFFICE, number=number,
                          name=f"باجه {to_persian_digits(number)}", queues=[QUEUE])
        db.add(counter)
    return counter


def _issue(app: Flask, count: int) -> list[str]:
    with app.app_context(), database().transaction() as db:
        rules = Lobby(current_snapshot(db), now())
        return [walk_in_queue.issue(db, rules, TicketOrder(client_id=str(uuid.uuid4()), service=SERVICE,
                                                   office=OFFICE),
                            enforce_hours=False).ticket.public_id for _ in range(count)]


def _ahead(app: Flask, public_id: str) -> int:
    with app.app_context(), database().session() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.public_id == public_id))
        assert ticket is not None
        return walk_in_queue.ahead_of(db, ticket)


def _at_counter(db: Session, counter: Counter) -> tuple[Lobby, Counter, User]:
    """Today's rules, the counter's row and the clerk working at it."""
    row = db.get(Counter, counter.id)
    clerk = db.scalar(select(User).where(User.username == "clerk-tourism"))
    assert row is not None and clerk is not None
    return Lobby(current_snapshot(db), now()), row, clerk


def _call_next(app: Flask, counter: Counter) -> None:
    with app.app_context(), database().transaction() as db:
        rules, row, clerk = _at_counter(db, counter)
        assert walk_in_queue.call_next(db, rules, row, clerk) is not None


def _finish_current(app: Flask, counter: Counter) -> None:
    with app.app_context(), database().transaction() as db:
        rules, row, clerk = _at_counter(db, counter)
        ticket = walk_in_queue.current_ticket(db, row, rules.today)
        assert ticket is not None
        walk_in_queue.act(db, rules, row, ticket, "finish", clerk)


def _clerk_page(browser: Browser, live_server: str) -> Page:
    staff = browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 900}).new_page()
    staff.goto(f"{live_server}/desk/login")
    staff.get_by_label("نام کاربری").fill("clerk-tourism")
    staff.get_by_label("گذرواژه").fill(PASSWORD)
    staff.get_by_role("button", name="ورود").click()
    expect(staff.get_by_role("heading", name="کارتابل درخواست‌ها")).to_be_visible()
    return staff


def test_display_board_shows_a_call_from_the_desk_without_reload(
        browser: Browser, live_app: Flask, live_server: str) -> None:
    counter = _new_counter(live_app)
    _issue(live_app, 2)
    tv = browser.new_context(locale="fa-IR", viewport={"width": 1920, "height": 1080}).new_page()
    tv.goto(f"{live_server}/display/{OFFICE}")
    screenshot(tv, "display-start")
    tv.get_by_role("button", name="شروع نمایش").click()
    expect(tv.locator("[data-start-overlay]")).to_be_hidden()
    tv.wait_for_function("document.querySelector('[data-board]').dataset.version !== undefined")
    loaded_at = tv.evaluate("window.__loadedAt")
    chimes = tv.evaluate("window.__chimes")

    staff = _clerk_page(browser, live_server)
    staff.goto(f"{live_server}/desk/counter/{counter.id}")
    staff.get_by_role("button", name="نفر بعدی").click()
    called = staff.locator(".current-ticket .big-number").inner_text().strip()
    assert re.fullmatch(r"ب-[۰-۹]{3}", called), called
    counter_fa = to_persian_digits(counter.number)

    latest = tv.locator("[data-latest]")
    expect(latest.locator("[data-field=ticket]")).to_have_text(called, timeout=LIVE_TIMEOUT)
    expect(latest.locator("[data-field=counter]")).to_have_text(counter_fa)
    expect(latest).to_have_class(re.compile(r"\bfresh\b"))
    serving = tv.locator(".serving-item", has_text=called)
    expect(serving.locator("[data-field=counter]")).to_have_text(counter_fa)
    expect(tv.locator(".call-item").first).to_contain_text(called)
    assert tv.evaluate("window.__loadedAt") == loaded_at  # the page was never reloaded
    assert tv.evaluate("window.__chimes") == chimes + 1
    expect(tv.locator("[data-offline]")).to_be_hidden()
    expect(tv.locator("[data-clock]")).to_have_text(re.compile(r"^[۰-۹]{2}:[۰-۹]{2}$"))
    screenshot(tv, "display-board")

    watcher_for(live_app).stop()  # every stream ends, as when the server restarts
    offline = tv.locator("[data-offline]")
    expect(offline).to_be_visible()
    expect(offline).to_have_text("اتصال قطع است…")
    expect(offline).to_be_hidden(timeout=10_000)  # reconnected by itself
    assert tv.evaluate("window.__loadedAt") == loaded_at
    staff.context.close()
    tv.context.close()


def test_ticket_page_follows_its_place_in_line(browser: Browser, live_app: Flask,
                                              live_server: str) -> None:
    counter = _new_counter(live_app)
    _, mine = _issue(live_app, 2)
    ahead = _ahead(live_app, mine)
    assert ahead >= 1
    phone = browser.new_context(locale="fa-IR", viewport={"width": 375, "height": 740},
                                is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{live_server}/q/{mine}")
    card = phone.locator("[data-ticket]")
    expect(card.locator("[data-field=number]")).to_have_text(re.compile(r"^ب-[۰-۹]{3}$"))
    expect(card.locator("[data-field=ahead_fa]")).to_have_text(to_persian_digits(ahead))
    expect(card.locator("[data-field=estimate]")).to_have_text(
        re.compile(r"^(حدود [۰-۹]+ دقیقه|[۰-۹]+ تا [۰-۹]+ دقیقه)$"))
    expect(card).to_contain_text("نفرات پیش از شما")
    phone.wait_for_function("window.__loadedAt !== undefined")
    loaded_at = phone.evaluate("window.__loadedAt")
    screenshot(phone, "ticket-phone")

    _call_next(live_app, counter)
    expect(card.locator("[data-field=ahead_fa]")).to_have_text(to_persian_digits(ahead - 1),
                                                               timeout=LIVE_TIMEOUT)
    assert phone.evaluate("window.__loadedAt") == loaded_at

    _finish_current(live_app, counter)
    while _ahead(live_app, mine) > 0:
        _call_next(live_app, counter)
        _finish_current(live_app, counter)
    _call_next(live_app, counter)
    expect(card.locator("[data-field=message]")).to_have_text(
        f"نوبت شما رسید؛ لطفاً به باجه {to_persian_digits(counter.number)} بروید.",
        timeout=LIVE_TIMEOUT)
    expect(card.locator("[data-when=waiting]").first).to_be_hidden()
    screenshot(phone, "ticket-phone-called")
    phone.context.close()


def test_ticket_prints_on_80mm_paper(browser: Browser, live_app: Flask,
                                     live_server: str) -> None:
    (public_id,) = _issue(live_app, 1)
    page = browser.new_context(locale="fa-IR", viewport={"width": 302, "height": 900}).new_page()
    page.goto(f"{live_server}/q/{public_id}?print=1")  # 302 px: 80 mm at 96 dpi
    expect(page.get_by_role("button", name="چاپ نوبت")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="چاپ نوبت")).to_be_hidden()
    expect(page.locator(".ticket-card .qr")).to_be_visible()
    screenshot(page, "ticket-print")
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # one ticket, one page
    media_box = re.search(rb"/MediaBox\s*\[0 0 ([\d.]+)", pdf)
    assert media_box is not None
    assert abs(float(media_box.group(1)) - 80 / 25.4 * 72) < 1  # 80 mm paper
    page.context.close()


COUNT_STREAMS = """
window.__streams = 0;
window.EventSource = class extends window.EventSource {
  constructor(url, options) { super(url, options); window.__streams += 1; }
};
"""
WATCH_NOTICE = """
window.__noticeShown = false;
const notice = document.querySelector("[data-offline]");
new MutationObserver(() => { if (!notice.hidden) { window.__noticeShown = true; } })
  .observe(notice, {attributes: true});
"""


def test_pages_reconnect_at_the_end_of_a_stream_without_a_notice(
        browser: Browser, live_app: Flask, live_server: str) -> None:
    counter = _new_counter(live_app)
    _, mine = _issue(live_app, 2)
    ahead = _ahead(live_app, mine)
    context = browser.new_context(locale="fa-IR", viewport={"width": 375, "height": 740})
    context.add_init_script(COUNT_STREAMS)
    phone, tv = context.new_page(), context.new_page()
    lifetime, live_app.config["STREAM_MAX_SECONDS"] = live_app.config["STREAM_MAX_SECONDS"], 1
    try:
        phone.goto(f"{live_server}/q/{mine}")
        tv.goto(f"{live_server}/display/{OFFICE}")
        for page in (phone, tv):
            page.evaluate(WATCH_NOTICE)
        for page in (phone, tv):  # each stream lives about a second: several have ended
            page.wait_for_function("() => window.__streams >= 4", timeout=15_000)
        _call_next(live_app, counter)
        card = phone.locator("[data-ticket]")
        expect(card.locator("[data-field=ahead_fa]")).to_have_text(
            to_persian_digits(ahead - 1), timeout=LIVE_TIMEOUT)
        for page in (phone, tv):
            assert page.evaluate("window.__noticeShown") is False
            expect(page.locator("[data-offline]")).to_be_hidden()
    finally:
        live_app.config["STREAM_MAX_SECONDS"] = lifetime
        context.close()


def test_a_refused_ticket_page_says_so_and_comes_back(browser: Browser, live_app: Flask,
                                                     live_server: str) -> None:
    mine = _issue(live_app, 1)[0]
    phone = browser.new_context(locale="fa-IR", viewport={"width": 375, "height": 740},
                                is_mobile=True, has_touch=True).new_page()
    per_ticket, live_app.config["STREAM_PER_TICKET"] = live_app.config["STREAM_PER_TICKET"], 0
    try:
        with phone.expect_response(lambda r: r.url.endswith(f"/q/{mine}/events")) as answer:
            phone.goto(f"{live_server}/q/{mine}")
        assert answer.value.status == 503 and answer.value.headers["retry-after"] == "30"
        offline = phone.locator("[data-offline]")
        expect(offline).to_be_visible()
        expect(offline).to_have_text("اتصال قطع است…")
    finally:
        live_app.config["STREAM_PER_TICKET"] = per_ticket
    expect(offline).to_be_hidden(timeout=15_000)  # tried again later, by itself
    phone.context.close()
