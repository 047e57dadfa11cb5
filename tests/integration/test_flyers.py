"""Printable QR flyers: each size rendered to a picture with poppler's ``pdftoppm`` and its QR code read back
with zxing-cpp, to exactly the code's QR target for the flyer's placement; the honest wording found in the
PDF's text (``pdftotext``); the QR drawn as vectors (``pdfimages`` finds no picture); a referrer gets flyers
of their own codes only (another's is 404), staff of any code."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from referral_core.services.notifications import POLICY_LINE
from referral_core.services.qr import qr_target
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.portal import create_referrer, portal, portal_stack, sign_in

pytestmark = pytest.mark.integration
__all__ = ["portal_stack"]

ADMIN = "StaffAdminFunction"
ORIGIN = "http://127.0.0.1:3000"
PLACEMENT = {"a4": "flyer", "a5": "flyer", "dl": "flyer", "card": "business_card", "decal": "van"}
MM = 72 / 25.4  # points per millimetre


def pdf_of(response: dict) -> bytes:
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"] == "application/pdf"
    body = response["body"]
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    assert data.startswith(b"%PDF-")
    return data


def decoded_qr(pdf: bytes, tmp_path: Path) -> list[str]:
    (tmp_path / "flyer.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", str(tmp_path / "flyer.pdf"),
                    str(tmp_path / "flyer")], check=True, timeout=60)
    return [result.text for result in zxingcpp.read_barcodes(Image.open(tmp_path / "flyer.png"))]


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    (tmp_path / "flyer.pdf").write_bytes(pdf)
    return subprocess.run([tool, *args, str(tmp_path / "flyer.pdf"), *(["-"] if tool == "pdftotext" else [])],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def page_size_mm(pdf: bytes, tmp_path: Path) -> tuple[float, float]:
    match = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", poppler("pdfinfo", pdf, tmp_path))
    assert match
    return round(float(match.group(1)) / MM, 1), round(float(match.group(2)) / MM, 1)


@pytest.fixture
def jo(portal_stack):
    referrer = create_referrer(portal_stack)
    return {**referrer, "session": sign_in(portal_stack, "jo@example.com")}


@pytest.mark.parametrize("size", ["a4", "a5", "dl", "card", "decal"])
def test_each_flyer_scans_to_the_codes_qr_target_and_says_the_policy(portal_stack, jo, size, tmp_path):
    response = portal(portal_stack, "GET", f"/me/share-codes/{jo['code']}/flyer.pdf", session=jo["session"],
                      route="/me/share-codes/{code}/flyer.pdf", path_params={"code": jo["code"]},
                      query={"size": size})
    pdf = pdf_of(response)
    assert response["headers"]["Content-Disposition"] == f'attachment; filename="{jo["code"]}-{size}.pdf"'
    assert decoded_qr(pdf, tmp_path) == [qr_target(ORIGIN, jo["code"], PLACEMENT[size])]
    text = " ".join(poppler("pdftotext", pdf, tmp_path).split())
    assert POLICY_LINE in text
    assert f"127.0.0.1:3000/r/{jo['code']}" in text  # the short link under the QR
    assert "Quick Help" in text  # the business's name (the default before staff set one)
    assert poppler("pdfimages", pdf, tmp_path, "-list").count("\n") == 2  # header lines only: no bitmap


def test_page_sizes_and_the_business_cards_bleed(portal_stack, jo, tmp_path):
    def size_of(size):
        return page_size_mm(pdf_of(portal(portal_stack, "GET", f"/me/share-codes/{jo['code']}/flyer.pdf",
                                          session=jo["session"], route="/me/share-codes/{code}/flyer.pdf",
                                          path_params={"code": jo["code"]}, query={"size": size})), tmp_path)

    assert size_of("a4") == (210, 297)
    assert size_of("a5") == (148, 210)
    assert size_of("dl") == (99, 210)
    assert size_of("decal") == (300, 380)
    assert size_of("card") == (85 + 2 * (3 + 8), 55 + 2 * (3 + 8))  # 3 mm bleed, 8 mm for the crop marks


def test_a_referrer_gets_no_flyer_of_another_referrers_code(portal_stack, jo):
    other = create_referrer(portal_stack, name="Sam Other", email="sam@example.com")
    response = portal(portal_stack, "GET", f"/me/share-codes/{other['code']}/flyer.pdf", session=jo["session"],
                      route="/me/share-codes/{code}/flyer.pdf", path_params={"code": other["code"]})
    assert response["statusCode"] == 404
    assert portal(portal_stack, "GET", f"/me/share-codes/{jo['code']}/flyer.pdf",
                  route="/me/share-codes/{code}/flyer.pdf", path_params={"code": jo["code"]})["statusCode"] == 401


def test_an_unknown_size_or_placement_is_422_naming_it(portal_stack, jo):
    for query, field in (({"size": "a3"}, "size"), ({"placement": "moon"}, "placement")):
        response = portal(portal_stack, "GET", f"/me/share-codes/{jo['code']}/flyer.pdf", session=jo["session"],
                          route="/me/share-codes/{code}/flyer.pdf", path_params={"code": jo["code"]}, query=query)
        assert response["statusCode"] == 422
        assert field in json.dumps(json_body(response))


def test_staff_get_a_flyer_of_any_code_with_its_branding_and_placement(portal_stack, jo, tmp_path):
    stack = portal_stack
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2" fill="#a30"/></svg>'
    put = stack.invoke(ADMIN, http_event("PUT", "/admin/branding", route="/admin/{proxy+}",
                                         path_params={"proxy": "branding"}, claims={**STAFF_CLAIMS,
                                         "cognito:groups": "[admin]"}, body={
        "business_name": "Fixit Computers", "tagline": "Laptop repairs", "contact_line": "02 9999 0000",
        "logo": {"content_type": "image/svg+xml", "data_base64": base64.b64encode(svg).decode()},
        "expected_version": 0}))
    assert put["statusCode"] == 200, put
    path = f"/admin/share-codes/{jo['code']}/flyer.pdf"
    pdf = pdf_of(stack.invoke(ADMIN, http_event("GET", path, route="/admin/{proxy+}", claims=STAFF_CLAIMS,
                                                path_params={"proxy": path.removeprefix("/admin/")},
                                                query={"size": "decal", "placement": "yard_sign"})))
    assert decoded_qr(pdf, tmp_path) == [qr_target(ORIGIN, jo["code"], "yard_sign")]
    text = " ".join(poppler("pdftotext", pdf, tmp_path).split())
    assert "Fixit Computers" in text and "02 9999 0000" in text and POLICY_LINE in text
