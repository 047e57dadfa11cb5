"""Look-alike keys (Unicode TS #39) and the two hash kinds: pure logic, no AWS."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from local.runtime import lambda_environment
from local.template import load_template
from referral_core.contacts import ASCII_PROTOTYPES, _match_round, _prototypes, is_disposable_domain, match_key
from referral_core.hashing import email_hash, email_match_hash, email_match_key

pytestmark = pytest.mark.unit


def test_the_ascii_table_is_the_librarys_ascii_slice():
    # ASCII text never loads the confusables data; the copied slice must stay the library's.
    assert {char: target for char, target in _prototypes().items() if char.isascii()} == ASCII_PROTOTYPES


@pytest.mark.parametrize("look_alike", [
    "\uff4aohn.doe@example.com",                 # fullwidth j
    "j\u043ehn.doe@example.com",                 # Cyrillic o
    "jo\u0301hn.doe@example.com",                # combining acute accent
    "j\u00f3hn.doe@example.com",                 # precomposed o with acute
    "JOHN.DOE@\uff25XAMPLE.COM",                 # case, fullwidth E
    "jo\u200bhn.doe@example.com",                # zero-width space
    "\u0458\u043ehn.d\u043e\u0435@\u0435\u0445\u0430mple.com",  # Cyrillic j, o, e, x, a
    "john.d0e@examp1e.com",                      # ASCII look-alikes: 0 for o, 1 for l
])
def test_look_alikes_share_the_key_of_the_plain_address(look_alike):
    assert match_key(look_alike) == match_key("john.doe@example.com")
    assert email_match_key(look_alike) == email_match_key("john.doe@example.com")


def test_the_ts39_example_and_greek_letters():
    paypal = "\U0001d52d\U0001d4b6\u1eff\U0001d561\U0001d552\u2113"  # the example of UTS #39 section 4
    assert match_key(paypal) == match_key("paypal")
    assert match_key("\u03c1\u03b1\u0443\u0440\u0430l") == match_key("paypal")  # Greek rho alpha, Cyrillic u er a
    assert match_key("rn") == match_key("m")  # TS #39 maps m to rn: a flag, never a refusal


def test_the_key_of_a_key_is_itself_for_every_character_of_the_data():
    # e.g. a circled digit one folds to 1, whose prototype is l: the rounds go on until nothing changes
    for char in _prototypes():
        key = match_key(char)
        assert match_key(key) == key, (hex(ord(char)), key)
        rounds, text = 0, char
        while _match_round(text) != text:
            text, rounds = _match_round(text), rounds + 1
        assert rounds <= 3


def test_different_addresses_keep_different_keys():
    keys = {match_key(text) for text in ("john.doe@example.com", "jane.doe@example.com", "john.dee@example.com")}
    assert len(keys) == 3


def test_the_email_rules_apply_after_the_look_alike_key():
    assert email_match_key("\uff2a\u043e.hn+x@googlemail.com") == email_match_key("john@gmail.com")
    assert email_match_key("j.o.h.n@gm\u0430il.com") == email_match_key("john@gmail.com")  # Cyrillic a in gmail


def test_exact_hashes_are_unchanged_by_the_look_alike_keys():
    # Stored exact hashes stay valid (no re-hash): this value was computed by the code before look-alikes.
    assert email_hash("p", "Jo.Smith+ads@GoogleMail.com") == "ea188fe0a98446fd068f406e6cefc045"
    # Exact look-ups differ from look-alike ones, so they can never meet one only alike.
    assert email_hash("p", "\uff4aohn@example.com") != email_hash("p", "john@example.com")
    assert email_match_hash("p", "joe@a.b") != email_hash("p", "joe@a.b")  # even where the keys are equal
    assert email_match_key("joe@a.b") == "joe@a.b"


@pytest.mark.parametrize("domain", ["mailinator.com", "x.Mailinator.COM", "guerrillamail.com."])
def test_disposable_domains_come_from_the_maintained_list(domain):
    assert is_disposable_domain(domain)


@pytest.mark.parametrize("domain", ["gmail.com", "example.com", "com", ""])
def test_ordinary_domains_are_not_disposable(domain):
    assert not is_disposable_domain(domain)


DATA = ("confusable_homoglyphs", "disposable_email_domains")
PROBE = ("import json, sys; sys.path[:0] = {paths!r}; import {module}; "
         "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {data!r})))")


@pytest.mark.parametrize("logical_id", ["CaptureLeadFunction", "DispatchChangesFunction", "JobWebhookFunction"])
def test_no_function_loads_the_data_lists_at_init(logical_id):
    """Both lists load on first use (non-ASCII text; a lead check), never in a function's cold start."""
    function = load_template().functions[logical_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run([sys.executable, "-I", "-c", PROBE.format(paths=paths, module=function.module, data=DATA)],
                         env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []
