"""The delivery slip at the kiosk: after the server's national-code check, a slip with the
document's facts and its seal QR (read back from the printed raster with zxing-cpp, exactly
the seal's text) and, where the kiosk names an A4 printer, the signed PDF through `lp` (a
stand-in on PATH that records its arguments and the file)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import ImageOps

from kiosk.config import KioskConfig, load_config
from kiosk.local.store import KioskStore
from kiosk.usecases.delivered import NOTHING_DELIVERED, slip
from kiosk.usecases.errors import KioskError
from kiosk.usecases.kiosk import Kiosk
from shared.catalog.schema import Catalog
from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter
from shared.receipts import Field, paper_for, to_png
from shared.tracking_codes import format_code
from tests.kiosk.fakes import kiosk_top, write_config
from tests.kiosk.live import NATIONAL_CODE, PUBLIC, LiveServer
from tests.kiosk.test_sync import POLICY, engine_for, file_some, make_kiosk
from tests.shared.escpos_decode import decode
from tests.shared.fake_devices import READY

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("MIZ_SHOTS", ROOT / "var" / "shots"))
STANDIN_LP = """#!{python}
import json, shutil, sys
from pathlib import Path
record = Path({record!r})
args = sys.argv[1:]
shutil.copyfile(args[-1], str(record) + ".pdf")
record.write_text(json.dumps(args))
print("request id is a4-1 (1 file(s))")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Catalog
           ) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("slip-server"), demo_catalog)
    live.start()
    yield live
    live.close()


def config_with(server: LiveServer, folder: Path, paper: int, a4: str | None) -> KioskConfig:
    folder.mkdir(parents=True, exist_ok=True)
    top = kiosk_top(folder, server_url=server.url, public_base_url=PUBLIC,
                    kiosk_id=server.kiosk_id, token=server.token, a4_printer=a4)
    printer = {"backend": "file", "path": str(folder / "receipts.escpos"),
               "paper_width_mm": paper, "qr": "image"}
    return load_config(write_config(folder / "kiosk.toml", top, printer=printer))


@pytest.fixture
def lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `lp` first on PATH; the file where it records its arguments."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "lp-args.json"
    script = folder / "lp"
    import sys

    script.write_text(STANDIN_LP.format(python=sys.executable, record=str(record)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return record


def delivered_request(server: LiveServer, config: KioskConfig, store: KioskStore,
                      catalog: Catalog) -> tuple[str, str, str]:
    [code] = file_some(make_kiosk(config, store), catalog, 1)
    assert engine_for(config, store).run_once().ok
    public_id, seal = server.deliver(code)
    return code, public_id, seal


@pytest.mark.parametrize("paper", [80, 58])
def test_the_slip_carries_the_exact_seal_and_the_pdf_goes_to_lp(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog, lp: Path,
        paper: int) -> None:
    config = config_with(server, tmp_path / "kiosk", paper, a4="office-a4")
    with KioskStore(config.data_dir) as store:
        code, public_id, seal = delivered_request(server, config, store, demo_catalog)
        device = FakePrinter(READY)
        kiosk = Kiosk(config, store, ReceiptPrinter(device, 0.05), None, policy=POLICY)
        with pytest.raises(KioskError) as wrong:
            kiosk.hand_over(code, "0012345679")
        assert wrong.value.message == "کد ملی با اطلاعات این درخواست یکسان نیست."
        assert not device.output and not lp.exists()
        handed = kiosk.hand_over(code, "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in NATIONAL_CODE))
        assert handed.slips == 1 and handed.pdfs == 1 and handed.problem is None
        [document] = handed.documents
        assert document.id == public_id and document.seal_text == seal
        printout = decode(bytes(device.output), paper_for(paper).dots)
        assert not printout.qr_codes  # the QR is in the raster itself
        framed = ImageOps.expand(printout.image.convert("L"), border=32, fill=255)
        found = [r.text for r in zxingcpp.read_barcodes(
            framed, formats=zxingcpp.BarcodeFormat.QRCode)]
        assert found == [seal]
        assert json.loads(lp.read_text())[:6] == ["-d", "office-a4", "-t", document.number,
                                                  "-n", "1"]
        pdf = Path(str(lp) + ".pdf").read_bytes()
        assert pdf.startswith(b"%PDF-")
        assert not Path(json.loads(lp.read_text())[-1]).exists()  # the temporary file is gone
        assert hashlib.sha256(pdf).hexdigest() == server.sha256_of(public_id)
        receipt = slip(kiosk.parts, code, document)
        fields = {b.label: b.value for b in receipt.blocks if isinstance(b, Field)}
        assert fields["دارنده"] == document.holder
        assert format_code(code, persian=True) in fields["کد رهگیری"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        to_png(receipt, paper_for(paper)).save(SHOTS / f"delivery-slip-{paper}.png")


def test_no_slip_before_a_document_is_issued(server: LiveServer, tmp_path: Path,
                                             demo_catalog: Catalog) -> None:
    config = config_with(server, tmp_path / "kiosk", 80, a4=None)
    with KioskStore(config.data_dir) as store:
        [code] = file_some(make_kiosk(config, store), demo_catalog, 1)
        assert engine_for(config, store).run_once().ok
        kiosk = Kiosk(config, store, ReceiptPrinter(FakePrinter(READY), 0.05), None,
                      policy=POLICY)
        with pytest.raises(KioskError) as none:
            kiosk.hand_over(code, NATIONAL_CODE)
        assert none.value.message == NOTHING_DELIVERED
