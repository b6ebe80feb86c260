"""One screen per module, each with its kv file of the same name (see `kiosk.app.registry`)."""
