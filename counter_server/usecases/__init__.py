"""The server's use cases: what Miz does, whichever door the work comes in by.

Each module is one area — filing (`service_requests`), staff actions on a request
(`workflow`, on the rules of `shared.workflow`), `documents`, `public_tracking`, the desk's
`inbox`, the walk-in queue (`walk_in_queue`, `lobby_admin`, `counter_printing`), `staff`,
`kiosks`, the catalog's versions (`catalog_versions`), `notifications`, `surveys`, `audit`.
Their functions take a session and plain values, return models or small dataclasses, and
raise their own errors with a stable code and a Persian message; the caller commits. The
API, the pages, the desk, the command line and the demo all call them; they import no view
and no Flask (docs/architecture.md).
"""
