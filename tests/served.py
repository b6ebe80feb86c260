"""A WSGI app served over real HTTP on a free port of 127.0.0.1, in a thread, for the tests'
stand-ins of the machine's edges (the agencies' bus, the SMS provider)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class Served:
    """`wsgi` served from `start()` to `stop()`; `closing` is set first on stop (so that a
    stand-in's hanging calls give up), and `on_stop` callbacks run before it (the clients)."""

    def __init__(self, wsgi: Any, closing: threading.Event) -> None:
        self.wsgi, self.closing = wsgi, closing
        self.on_stop: list[Callable[[], None]] = []
        self._http: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> None:
        self._http = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._http.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for close in self.on_stop:
            close()
        self.closing.set()
        if self._http is not None and self._thread is not None:
            self._http.shutdown()
            self._http.server_close()
            self._thread.join()
            self._http = self._thread = None
