"""The console provider: each message is appended to an outbox file (JSON lines) instead of
leaving the machine — what the demo and development use. The mobile is written masked."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from counter_server.sms.provider import DELIVERED, Sent
from shared.sms import parts
from shared.sms_texts import one_time_code_text


def masked(mobile: str) -> str:
    return mobile[:4] + "*" * max(len(mobile) - 7, 0) + mobile[-3:] if len(mobile) > 7 else "***"


class Console:
    name = "console"

    def __init__(self, outbox: str | Path | None = None) -> None:
        self.outbox = Path(outbox) if outbox else None
        self.sent: dict[str, tuple[str, str]] = {}  # local id → (mobile, text)
        self._lock = threading.Lock()

    def send(self, local_id: str, mobile: str, text: str) -> Sent:
        with self._lock:
            self.sent[local_id] = (mobile, text)
            if self.outbox is not None:
                self.outbox.parent.mkdir(parents=True, exist_ok=True)
                line = {"local_id": local_id, "to": masked(mobile), "text": text}
                with self.outbox.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return Sent(f"console-{local_id}", DELIVERED, parts(text))

    def send_code(self, local_id: str, mobile: str, template: str, code: str) -> Sent:
        """The code as the approved template would word it (the template lives with a real
        provider; the console writes Miz's own wording)."""
        return self.send(local_id, mobile, one_time_code_text(code))

    def status(self, provider_id: str) -> Sent:
        local_id = provider_id.removeprefix("console-")
        return Sent(provider_id, DELIVERED, parts(self.sent.get(local_id, ("", ""))[1]))

    def status_by_local_id(self, local_id: str) -> Sent | None:
        return self.status(f"console-{local_id}") if local_id in self.sent else None
