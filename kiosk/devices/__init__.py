"""The kiosk's own devices (the receipt printer's driver is shared: `shared.devices`):

    scanner            QR/barcode scanners: serial, keyboard wedge (Persian layouts too)
    document_scanner   SANE, a network scanner's hot folder, or a fake folder
    receipt_printer    the `[printer]` table mapped to a `shared.devices` transport
"""
