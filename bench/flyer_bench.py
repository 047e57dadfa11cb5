"""``python -m bench.flyer_bench``: a printable flyer's render time, warm, per size (target ≤ 300 ms).

What the flyer routes do besides their two reads (the code, the branding): draw the PDF (fpdf2), the QR
matrix and its vector modules, and the logo (an SVG here, the dearest kind to place). Warm: the libraries
are imported and one flyer drawn first, as in a container that served one before. Median of ``rounds``.
Part of ``make bench`` (section ``flyers``); run alone, it prints its table.
"""

from __future__ import annotations

import time

from bench.support import Section, median, table
from referral_core.models.branding import BrandingData
from referral_core.services.flyers import LAYOUTS, FlyerSize, render_flyer

TARGET_MS = 300.0
BRAND = BrandingData(business_name="Fixit Computers", tagline="Laptop, phone and printer repairs in Sydney",
                     contact_line="02 9999 0000 · fixit.example", colour="#aa3300")
LOGO = ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20"><rect width="40" '
                         b'height="20" rx="4" fill="#aa3300"/><circle cx="10" cy="10" r="6" fill="#fff"/></svg>')
TARGET = "https://refer.fixit.example/r/K7QX3MZ?src=qr&p=flyer"


def render_ms(size: FlyerSize) -> float:
    started = time.perf_counter()
    render_flyer(size, target=TARGET, short_url="refer.fixit.example/r/K7QX3MZ", brand=BRAND, logo=LOGO)
    return (time.perf_counter() - started) * 1000


def run(quick: bool = False) -> Section:
    rounds = 5 if quick else 21
    render_ms(FlyerSize.A4)  # warm: imports, fonts, the first PDF
    rows, checks = [], {}
    for size in FlyerSize:
        timings = [render_ms(size) for _ in range(rounds)]
        ms = median(timings)
        checks[f"{size.value} ≤ {TARGET_MS:.0f} ms"] = ms <= TARGET_MS
        layout = LAYOUTS[size]
        rows.append([f"{layout.title} ({size.value}, {layout.width_mm:g} x {layout.height_mm:g} mm, QR "
                     f"{layout.error_correction})", f"{ms:.1f} ms", f"{max(timings):.1f} ms",
                     f"≤ {TARGET_MS:.0f} ms {'✅' if ms <= TARGET_MS else '❌'}"])
    body = (f"Warm render of one flyer (PDF with vector QR, logo, branding and policy line), median of {rounds}; "
            "the routes add two GetItems (the code, the branding: cached a minute).\n\n"
            + table(["flyer", "median", "max", "target"], rows))
    return Section("Printable flyers: warm render (bench/flyer_bench.py)", "python -m bench --only flyers", body,
                   checks)


if __name__ == "__main__":
    print(run().markdown())
