"""Miz lobby kiosk (میز خدمت): a Persian touchscreen in an agency's lobby where citizens file
requests, take queue tickets, track their requests and answer a survey. It keeps working with
no network: whatever it makes is committed to its local store before anything is printed,
and a background sync delivers it to the counter server, in order, exactly once.

It is built in layers, each importing only from the layers below it:

    app/        the Kivy touchscreen app: one `.py` + `.kv` per screen (listed in
                `app/registry.py`), one observable `KioskState`, the idle reset; the only
                place Kivy is imported
    usecases/   what a citizen does: file a request, take a ticket, track a request, answer
                the survey; receipts saved, then printed; `Kiosk`, the object screens call
    sync/       the one HTTP client for the server, the sync policy, log redaction and the
                sync engine (push the outbox, pull the catalog, leases, heartbeat)
    local/      the durable SQLite store (outbox, receipts, leases, shared state) and the
                catalog cached in it
    devices/    QR and document scanners, and the `[printer]` table mapped to the receipt
                printer driver the kiosk shares with the server (`shared.devices`)
    config      the kiosk's TOML file, every key checked and named at start
    __main__    `python -m kiosk`: the app, `screenshots`, `print-test`, `reprint`, `sync`

The rules the kiosk and the server share (forms, tracking codes, queue hours and ticket
labels, due dates, receipt layouts, the catalog) are in `shared/`.
"""
