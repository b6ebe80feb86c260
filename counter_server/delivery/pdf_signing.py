"""PAdES signatures on delivered PDFs, with pyHanko.

`sign_pdf` adds the agency's signature as an incremental update: PAdES-B-B (a CAdES
signature with the signing certificate's digest among its signed attributes), or
PAdES-B-T when a time-stamp server is given (the signature's time stamped by a third
party). PDF readers will not trust an Iranian agency's certificate by default: the
signature proves that the file has not changed since it was signed, and `/v/<id>` and
the seal are how people check who issued it.

`is_pdf` is the check an uploaded "PDF made elsewhere" must pass: its bytes, not its name;
an encrypted PDF is refused, as it could not be signed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import TypeVar

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper

FIELD_NAME = "MizSignature"
T = TypeVar("T")


def is_pdf(data: bytes) -> bool:
    """Whether `data` is a PDF that can be read and signed (not merely named .pdf)."""
    if not data.lstrip()[:5] == b"%PDF-":
        return False
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return False  # it could not be signed without its password
        return len(reader.root["/Pages"]["/Kids"]) > 0
    except (PdfReadError, KeyError, TypeError, ValueError, IndexError):
        return False


def sign_pdf(data: bytes, signer: signers.Signer, *, reason: str, location: str,
             tsa_url: str | None = None) -> bytes:
    """`data` signed (PAdES-B-B; B-T with `tsa_url`) as an incremental update."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", reason=reason, location=location,
        subfilter=fields.SigSeedSubFilter.PADES)
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    output = outside_event_loops(lambda: signers.sign_pdf(writer, metadata, signer=signer,
                                                          timestamper=timestamper))
    return bytes(output.getvalue())


def outside_event_loops(work: Callable[[], T]) -> T:
    """Run pyHanko's synchronous API, which runs an event loop of its own (`asyncio.run`):
    in this thread, or — when this thread already runs a loop (an async server worker, a
    browser driver) — in a thread of its own, where that is allowed."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
