"""Server pages from the files in referral_core/pages/static: each inlined style and script is allowed by its
hash in the page's policy, and nothing else inline is (no style attributes, no event handlers)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from referral_core.pages import STATIC, content_security_policy, not_found_page
from referral_core.pages.leads import lead_received_page, policy_page, quick_help_csp, quick_help_page
from referral_core.pages.portal import dashboard_page, opt_out_confirm_page, opted_out_page, portal_csp

pytestmark = pytest.mark.unit


def _sources(csp: str, directive: str) -> set[str]:
    [part] = [p for p in csp.split("; ") if p.startswith(directive + " ")]
    return set(part.split()[1:])


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


PAGES = {
    "dashboard": (dashboard_page(), portal_csp()),
    "opt-out": (opt_out_confirm_page("t" * 20), portal_csp()),
    "opted out": (opted_out_page(), portal_csp()),
    "quick help": (quick_help_page(ref="AB12", cid="c1"), quick_help_csp()),
    "quick help with errors": (quick_help_page(values={"name": "<b>"}, errors={"issue": "required",
                                                                            "consent": "x"}), quick_help_csp()),
    "thank you": (lead_received_page(name="<Sam>", lead_id="L1"), quick_help_csp()),
    "policy": (policy_page(), quick_help_csp()),
    "link not found": (not_found_page("https://example.com/quick-help?a=1&b=2"), content_security_policy()),
}


@pytest.mark.parametrize("name", PAGES)
def test_every_inline_style_and_script_is_allowed_by_its_hash_and_nothing_else_inline(name):
    page, csp = PAGES[name]
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    assert styles and {_hash(text) for text in styles} <= _sources(csp, "style-src")
    assert {_hash(text) for text in scripts} <= _sources(csp, "script-src")
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert not re.search(r"\sstyle=|\son[a-z]+=", page)  # attributes a hash cannot allow
    assert "<b>" not in page and "<Sam>" not in page  # data is escaped


def test_the_dashboard_inlines_its_script_file_exactly_and_the_files_hold_no_data_slots_for_html():
    page, csp = PAGES["dashboard"]
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    assert f'<script type="module">{script}</script>' in page
    assert "</script" not in script
    assert _sources(csp, "script-src") == {_hash(script)}
    assert "require-trusted-types-for 'script'" in csp
