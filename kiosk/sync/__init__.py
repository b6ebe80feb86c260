"""The kiosk's sync with the counter server, in the background of the app or alone
(`python -m kiosk sync`):

    api_client   the one HTTP client (`ApiClient`, `Reply`, `Unreachable`) and the endpoints
    policy       `KioskPolicy`: timeouts, online and out-of-touch windows, leases, pace
    redaction    national codes and mobile numbers never reach a log
    delivery     one outbox record POSTed as stored, and its acknowledgement
    engine       `SyncEngine`: push the outbox, pull the catalog, keep ticket leases topped
                 up, send the heartbeat and measure the clock
"""
