"""Validation and normalisation of people's contact details (email-validator, phonenumbers), and the
look-alike key they are matched by (Unicode TS #39 confusables, ``confusable_homoglyphs``)."""

from __future__ import annotations

import functools
import unicodedata

from referral_core.errors import InvalidInput


def clean_email(value: str, field: str = "email") -> str:
    # Imported on first use: its module compiles the RFC grammar into regexes at import, and most
    # requests of a function that can handle an email (staff admin, the portal) never do.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field} is not a valid email address", fields={field: str(exc)}) from None


def clean_phone(value: str, region: str, field: str = "phone") -> str:
    """Return the number in E.164 (``+61412345678``); numbers without a country code use ``region``."""
    import phonenumbers  # heavy metadata; imported only where phones are handled

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{field} is not a phone number", fields={field: "not a phone number"}) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{field} is not a valid phone number",
                           fields={field: f"not a valid number for region {region}"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_disposable_domain(domain: str) -> bool:
    """The email domain (or a parent of it: ``x.mailinator.com``) is a disposable-mail provider, by the
    maintained ``disposable-email-domains`` list. The list (~10,000 names) loads on first use only, in
    the lead checks: lead capture never calls this."""
    names = domain.strip().rstrip(".").casefold().split(".")
    blocklist = _disposable_domains()
    return any(".".join(names[i:]) in blocklist for i in range(len(names) - 1))


@functools.cache
def _disposable_domains() -> frozenset[str]:
    from disposable_email_domains import allowlist, blocklist

    return frozenset(blocklist) - frozenset(allowlist)


def mask_name(name: str) -> str:
    """``"Joanne Smith"`` -> ``"Jo S."``: enough for a referrer to recognise a friend, no more."""
    parts = name.split()
    if not parts:
        return "?"
    first = parts[0][:2]
    last = f" {parts[-1][0].upper()}." if len(parts) > 1 else ""
    return f"{first}{last}"


def first_name_and_initial(name: str) -> str | None:
    """``"Joanne Smith"`` -> ``"Joanne S."``: how a referrer who chose to be named appears on Quick Help."""
    parts = name.split()
    if not parts:
        return None
    return f"{parts[0]} {parts[-1][0].upper()}." if len(parts) > 1 else parts[0]


# -- look-alike matching (Unicode TS #39) -------------------------------------------------------------
#: The TS #39 prototypes of the ASCII characters that have one, so ASCII text (nearly every address) is
#: matched without loading the confusables data. ``tests/unit/test_contacts.py`` checks this slice against
#: the library's data, so a data update that changes it fails there.
ASCII_PROTOTYPES = {'"': "''", "%": "º/₀", "0": "O", "1": "l", "I": "l", "`": "'", "m": "rn", "|": "l"}
_DROPPED = frozenset({"Mn", "Me", "Cf"})  # combining marks; format characters (zero-width, bidi controls)


def match_key(value: str) -> str:
    """The key two look-alike strings share, for matching only (never shown, never stored raw).

    NFKC (fullwidth and compatibility forms), case-fold, NFD without combining marks and format
    characters (``jóhn`` -> ``john``), each character replaced by its Unicode TS #39 confusable prototype
    (Cyrillic o U+043E -> ``o``, ``1`` -> ``l``, ``m`` -> ``rn``), case-folded again; repeated until nothing
    changes (a prototype can itself fold or decompose into something with a prototype: circled digit one
    -> ``1`` -> ``l``), so the key of a key is itself. Strings that look alike get the same key; some
    distinct ones do too (``barn``/``bam``), which is why a look-alike match only ever raises a flag for
    staff and never links or attributes anything. The one normalisation every look-alike check uses
    (contacts here; referrer applications).
    """
    key = value
    for _ in range(MAX_ROUNDS):
        folded = _match_round(key)
        if folded == key:
            break
        key = folded
    return key


MAX_ROUNDS = 6  # a fixed point comes within 3 rounds for every character of the data (unit test)


def _match_round(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        mapped = "".join(ASCII_PROTOTYPES.get(char, char) for char in folded)
    else:
        prototypes = _prototypes()
        mapped = "".join(prototypes.get(char, char) for char in unicodedata.normalize("NFD", folded)
                         if unicodedata.category(char) not in _DROPPED)
    return "".join(char for char in unicodedata.normalize("NFD", mapped).casefold()
                   if unicodedata.category(char) not in _DROPPED)


@functools.cache
def _prototypes() -> dict[str, str]:
    """Code point -> TS #39 prototype, from ``confusable_homoglyphs``' copy of Unicode's confusables.txt.

    Loaded on the first non-ASCII string, never at import. The package stores each
    source -> prototype line in both directions; the direction follows from the file's shape: a source
    has exactly one prototype, a prototype maps to nothing further. So a key whose one entry has several
    sources, or is several characters long, is a source of that entry; two single characters that only
    map to each other are a class of two, and one of them (the first in :func:`_pair_order`) stands for
    both, also inside longer prototypes. Matching needs only that two strings get equal keys when TS #39
    gives them equal skeletons: compared in full with the official confusables.txt when this library was
    chosen (docs/leads.md), spot-checked on TS #39's examples in ``tests/unit/test_contacts.py``.
    """
    from confusable_homoglyphs.confusables import confusables_data

    def clean(text: str) -> str:
        return text.replace("\u200e", "").replace("\u200f", "")  # the data wraps RTL letters in marks

    graph = {clean(key): [clean(entry["c"]) for entry in entries] for key, entries in confusables_data.items()}
    prototypes: dict[str, str] = {}
    for key, others in graph.items():
        if len(key) != 1 or len(others) != 1 or others[0] == key:
            continue
        other = others[0]
        if len(other) > 1 or len(graph.get(other, ())) > 1:
            prototypes[key] = other
        elif graph.get(other) == [key]:
            first, second = sorted((key, other), key=_pair_order)
            prototypes[second] = first

    def stand_in(char: str) -> str:
        target = prototypes.get(char, char)
        return target if len(target) == 1 else char

    return {key: "".join(stand_in(char) for char in target) if len(target) > 1 else target
            for key, target in prototypes.items()}


def _pair_order(char: str) -> tuple[bool, bool, int]:
    """Which of two mutually confusable characters stands for both: unchanged by NFD, ASCII, lowest."""
    return unicodedata.normalize("NFD", char) != char, not char.isascii(), ord(char)
