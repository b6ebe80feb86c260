"""How long building and encoding a request receipt takes, against how long it takes to print.

    .venv/bin/python bench/receipt_bench.py [--runs 50] [--paper 80mm]

Each run builds the request receipt from plain values (`request_receipt`) and encodes it for
the printer (`to_escpos`: text shaped by raqm and drawn, raster bands, QR native or as an
image, cut), as the kiosk does when a citizen files a request. The first run (fonts opened,
the SVG logo rasterised, both cached after) is reported apart. The paper time is the
receipt's length at 250 and 300 mm/s, the speed of common 80 mm thermal printers.
Figures are recorded in bench/RESULTS-receipts.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from shared.receipts import PAPERS, request_receipt, to_escpos, to_png
from shared.receipts.paper import DOTS_PER_MM
from shared.tracking_codes import new_code

LOGO = REPO_ROOT / "assets" / "images" / "logo.svg"


def build():
    return request_receipt(
        agency_name="اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان",
        service_title="صدور پروانهٔ بهره‌برداری دفتر خدمات مسافرتی",
        tracking_code=new_code(1),
        public_base_url="https://miz.chht-isfahan.example/",
        filed_at=datetime.now(UTC),
        channel="kiosk",
        place="سالن انتظار",
        documents=["تصویر کارت ملی مدیر عامل", "اساسنامه و آگهی تأسیس شرکت در روزنامهٔ رسمی",
                   "گواهی عدم سوءپیشینه"],
        duration=5,
        due=date(2026, 12, 1),
        logo=LOGO,
        phone="031-32220000",
    )


def measure(paper_name: str, qr: str, runs: int) -> dict[str, float]:
    paper = PAPERS[paper_name]
    start = time.perf_counter()
    job = to_escpos(build(), paper, qr=qr)  # type: ignore[arg-type]
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job = to_escpos(build(), paper, qr=qr)  # type: ignore[arg-type]
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    length_mm = to_png(build(), paper).height / DOTS_PER_MM
    return {
        "first": first,
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * len(times)) - 1)],
        "max": times[-1],
        "bytes": len(job),
        "length_mm": length_mm,
        "paper_250": length_mm / 250 * 1000,
        "paper_300": length_mm / 300 * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--paper", action="append", choices=sorted(PAPERS),
                        help="paper (repeatable; default 80mm)")
    args = parser.parse_args()
    papers = args.paper or ["80mm"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or '-'};"
          f" Python {platform.python_version()}; runs: {args.runs}")
    print(f"{'paper':9} {'qr':6} {'first ms':>8} {'median ms':>9} {'p95 ms':>7} {'max ms':>7}"
          f" {'bytes':>7} {'length':>7} {'paper @250':>10} {'@300':>6}")
    for paper_name in papers:
        for qr in ("native", "image"):
            r = measure(paper_name, qr, args.runs)
            print(f"{paper_name:9} {qr:6} {r['first']:8.1f} {r['median']:9.1f} {r['p95']:7.1f}"
                  f" {r['max']:7.1f} {r['bytes']:7d} {r['length_mm']:5.0f}mm"
                  f" {r['paper_250']:8.0f}ms {r['paper_300']:4.0f}ms")


if __name__ == "__main__":
    main()
