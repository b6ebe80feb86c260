"""Miz lobby kiosk: everything but the touchscreen app (which arrives with the kiosk issue).

    config             the kiosk's TOML file, every key checked and named at start
    store              the durable local SQLite store (WAL, synchronous=FULL, migrations)
    printer            the receipt printer over python-escpos, with DLE EOT status queries
    printing           receipts saved first, then rendered (shared.receipts) and printed
    scanner            QR/barcode scanners: serial, keyboard wedge (Persian layouts too)
    document_scanner   SANE, a network scanner's hot folder, or a fake folder
    __main__           `python -m kiosk print-test | reprint CODE --config FILE`

No Flask and no Kivy here.
"""
