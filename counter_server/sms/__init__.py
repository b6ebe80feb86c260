"""The edge of Miz towards SMS providers: one small interface, several providers.

- `provider` — the `SmsProvider` interface (`send`, `send_code`, `status`,
  `status_by_local_id`), the `Sent` it returns and its errors (`SmsTemporary`, `SmsTimeout`,
  `SmsPermanent`);
- `kavenegar`, `ghasedak` — the providers' REST APIs, under a configurable base URL;
- `generic` — an agency's own gateway over a small documented JSON protocol (`http`);
- `console` — writes each message to an outbox file (the demo's and the default);
- `standin` — a Flask app speaking Kavenegar's protocol and the generic one, with faults, for
  tests.

`provider_from_config` builds the server's provider from `MIZ_SMS_PROVIDER`
(`kavenegar|ghasedak|http|console`), `MIZ_SMS_API_KEY`, `MIZ_SMS_SENDER`, `MIZ_SMS_BASE_URL`
(the provider's real address by default; required for `http`) and `MIZ_SMS_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from counter_server.sms import ghasedak, kavenegar
from counter_server.sms.console import Console
from counter_server.sms.generic import GenericHttp
from counter_server.sms.provider import (
    Sent,
    SmsError,
    SmsPermanent,
    SmsProvider,
    SmsTemporary,
    SmsTimeout,
)

PROVIDERS = {"kavenegar": kavenegar.Kavenegar, "ghasedak": ghasedak.Ghasedak,
             "http": GenericHttp}
BASE_URLS = {"kavenegar": kavenegar.BASE_URL, "ghasedak": ghasedak.BASE_URL}


def provider_from_config(config: Mapping[str, Any], instance_path: str = ".") -> SmsProvider:
    """The provider named by `SMS_PROVIDER` (console when none is configured)."""
    name = (config.get("SMS_PROVIDER") or "console").lower()
    if name == "console":
        return Console(config.get("SMS_OUTBOX") or Path(instance_path) / "sms-outbox.jsonl")
    if name not in PROVIDERS:
        raise ValueError(f"unknown SMS provider {name!r}: one of console, "
                         + ", ".join(PROVIDERS))
    kind = PROVIDERS[name]
    base = config.get("SMS_BASE_URL") or BASE_URLS.get(name, "")
    return kind(str(config.get("SMS_API_KEY") or ""), str(config.get("SMS_SENDER") or ""),
                base, float(config.get("SMS_TIMEOUT_SECONDS") or 10.0))


__all__ = ["Console", "GenericHttp", "Sent", "SmsError", "SmsPermanent", "SmsProvider",
           "SmsTemporary", "SmsTimeout", "provider_from_config"]
