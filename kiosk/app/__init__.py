"""The kiosk's touchscreen app (Kivy): screens, widgets, one state object.

Importing this package does not import Kivy; `kiosk.app.boot.prepare_kivy()` sets Kivy's
configuration (window size, input, no argument parsing) and must run before anything in
`kiosk.app.app`, `kiosk.app.screens` or `kiosk.app.widgets` is imported.

    kiosk.app.app.run(config)                       the app, full screen
    kiosk.app.screenshots.render_all(config, out)   every screen with demo data, to PNG
"""
