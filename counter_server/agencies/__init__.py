"""The edge of Miz towards other agencies: how inquiries (استعلام) travel over the government
service bus, and a stand-in for the agencies to develop, demonstrate and test against.

- `protocol` — the `Bus` interface every adapter implements, the `Exchange` it returns as
  evidence of one call, and the errors (each carrying the exchange, temporary or permanent);
- `adapter` — `HttpBus`, the real adapter (requests, pooled; bearer credential, client
  certificate, Ed25519-signed replies verified, every result checked against its kind's
  schema), and `bus_from_config`, which builds the server's bus from `MIZ_INQUIRY_*`;
- `signing` — Ed25519 keys, key ids, signing and verifying reply bytes;
- `standin` — `create_standin`, a Flask app speaking the same protocol for every kind of
  `shared.inquiries`, answering from `demo_data` (`assets/agencies/citizens.yaml`), with
  faults switched by `faults`; `cli` serves it (`flask --app counter_server agency-standin`).

The protocol itself is documented in `shared/inquiries.py`.
"""

from counter_server.agencies.adapter import BusSettings, HttpBus, bus_from_config
from counter_server.agencies.protocol import (
    Bus,
    BusBadSignature,
    BusError,
    BusMalformed,
    BusRefused,
    BusTimeout,
    BusUnavailable,
    Exchange,
)

__all__ = ["Bus", "BusBadSignature", "BusError", "BusMalformed", "BusRefused", "BusSettings",
           "BusTimeout", "BusUnavailable", "Exchange", "HttpBus", "bus_from_config"]
