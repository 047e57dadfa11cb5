"""Words a custom share code may not be or contain (docs/links.md): the one list, and the look-alike rule.

A vanity code is shown to customers as if it came from the business (``/r/PAYPAL-REFUND``), so it must not
impersonate the business's own routes, staff, authorities or well-known brands. Codes are compared by a
*skeleton*: hyphens dropped and characters that look alike folded together (``0`` as ``O``, ``1``/``L``
as ``I``, ``5`` as ``S``, ``VV`` as ``W``...), so ``ADM1N``, ``0FFICIAL`` and ``PAY-PA1`` are caught like
the words they imitate. Custom codes are ASCII ``A-Z 0-9 -`` only, so no other script can sneak in.

Pure and import-free: the share-code service and any later reader (typed codes, flyers) use the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The code may not BE one of these (route names and words that look like the system's own pages).
EXACT = frozenset({
    "API", "AUTH", "DASHBOARD", "DOCS", "HELP", "LEADS", "LOGOUT", "ME", "NULL", "NONE", "POLICY", "QR",
    "QUICK-HELP", "REFER", "REFERRAL", "REFERRALS", "ROOT", "TEST", "UNDEFINED", "WEBHOOK", "WEBHOOKS",
    "APPLY", "OPENAPI",
})

#: The code may not CONTAIN one of these anywhere (authority, staff, account and payment words, brands
#: that phishing imitates). Broad on purpose: a referrer named Stafford picks another code, a customer is
#: never shown ``STAFF-ONLY``. Staff add their own business's names in the programme
#: (``share_codes.reserved_words``).
CONTAINED = frozenset({
    # the business's side, authority and trust words
    "ADMIN", "STAFF", "OFFICIAL", "SUPPORT", "HELPDESK", "MODERATOR", "MANAGER", "EMPLOYEE",
    "VERIFIED", "VERIFY", "SECURITY", "SECURE", "GOVERNMENT", "POLICE", "COUNCIL", "TAXOFFICE", "REFUND",
    "LOGIN", "SIGNIN", "LOGON", "PASSWORD", "MYACCOUNT", "BILLING", "INVOICE", "PAYMENT", "PAYOUT",
    "WITHDRAW", "WEBHOOK", "GIFTCARD", "FREEMONEY", "PRIZE", "WINNER", "LOTTERY", "CRYPTO", "BITCOIN",
    # brands and agencies commonly impersonated (AU first: the default region)
    "PAYPAL", "PAYID", "STRIPE", "SQUAREUP", "AFTERPAY", "ZIPPAY", "VENMO", "ZELLE", "XERO",
    "MYOB", "APPLE", "ICLOUD", "GOOGLE", "GMAIL", "MICROSOFT", "OUTLOOK", "OFFICE365", "AMAZON",
    "FACEBOOK", "INSTAGRAM", "WHATSAPP", "NETFLIX", "EBAY", "MYGOV", "CENTRELINK", "MEDICARE", "AUSPOST",
    "ATOGOV", "TELSTRA", "OPTUS", "COMMBANK", "WESTPAC", "NETBANK", "ANZBANK", "NABBANK", "VISA",
    "MASTERCARD", "AMEX", "DHL", "FEDEX",
})

# Look-alikes, upper-case ASCII only (codes are normalised before this runs). Several-character look-alikes
# first, then one character to its class representative.
_MULTI = (("VV", "W"),)
_FOLD = str.maketrans({"0": "O", "Q": "O", "1": "I", "L": "I", "7": "T", "5": "S", "3": "E", "4": "A",
                       "8": "B", "6": "G", "9": "G", "2": "Z", "-": None})


def skeleton(text: str) -> str:
    """``text`` upper-cased with hyphens dropped and look-alike characters folded together."""
    folded = text.strip().upper()
    for many, one in _MULTI:
        folded = folded.replace(many, one)
    return folded.translate(_FOLD)


def _skeletons(words: Iterable[str]) -> dict[str, str]:
    return {skeleton(word): word for word in words if word.strip()}


_EXACT = _skeletons(EXACT)
_CONTAINED = _skeletons(CONTAINED)


def reserved_word(code: str, extra: Iterable[str] = ()) -> str | None:
    """The reserved word ``code`` is, imitates or contains (as written in the list), or None.

    ``extra``: the programme's own words (business and brand names), treated like :data:`CONTAINED`.
    Several found: the leftmost (then the longest), so the answer names what a reader sees first.
    """
    shape = skeleton(code)
    if shape in _EXACT:
        return _EXACT[shape]
    found = [(shape.find(word_shape), -len(word_shape), word)
             for word_shape, word in (*_CONTAINED.items(), *_skeletons(extra).items()) if word_shape in shape]
    return min(found)[2] if found else None
