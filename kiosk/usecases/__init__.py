"""What a citizen does at the kiosk, one module each (no Kivy here):

    filing     file a request: the form, the scanned documents, one transaction, the receipt
    tickets    take a queue ticket: from a lease, or from the server, or reception
    tracking   track a request: live from the server, else what this kiosk knows
    surveys    answer the satisfaction survey
    receipts   receipts saved first, then printed; reprints; a receipt rebuilt from the server
    status     the status bar's facts and the printer's state
    kiosk      `Kiosk`, the one object the screens call: one method per use case
    parts      `KioskParts`, what every use case works with
    errors     what the citizen must be told (Persian `message`)

Every use case that makes something commits it to the local store — the outbox record(s)
and the receipt's values, in one transaction — before anything is printed; the sync
(`kiosk.sync`) delivers it later, in order, exactly once. A printer failure never loses a
record: the citizen is told in Persian to ask reception, which reprints it. National codes
and other personal data never go to logs (`kiosk.sync.redaction`).
"""
