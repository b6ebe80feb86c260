"""Miz lobby kiosk: everything but the touchscreen app (which arrives with the kiosk issue).

    config             the kiosk's TOML file, every key checked and named at start
    local              the durable local SQLite store (WAL, synchronous=FULL, migrations)
                       and the catalog cached in it
    sync               the HTTP client, the sync policy, log redaction and the sync engine
    devices            QR and document scanners, and the `[printer]` table mapped to the
                       shared receipt printer driver (shared.devices.escpos_printer)
    usecases           what a citizen does: file a request, take a ticket, track a request,
                       answer the survey; receipts saved first, then printed; `Kiosk`
    __main__           `python -m kiosk print-test | reprint CODE --config FILE`

No Flask and no Kivy here.
"""
