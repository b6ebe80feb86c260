"""What the kiosk keeps on its own disk, so that it works with no network:

    store           the durable SQLite store: outbox, receipts, tracking codes handed out,
                    ticket leases, the cached catalog and the state the app and sync share
    catalog_cache   the last good catalog the server sent, else the bundled one
"""
