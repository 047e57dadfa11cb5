"""Identifiers: time-ordered ids for records and short, readable codes for people to type."""

from __future__ import annotations

import secrets
import time

# Crockford-style alphabet without ambiguous characters (0/O, 1/I/L, U): codes are read aloud and typed.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_B32 = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str = "") -> str:
    """A 26-character, time-sortable, random id (ULID layout: 48-bit ms time + 80 random bits)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_B32[value & 31])
        value >>= 5
    return prefix + "".join(reversed(chars))


def new_code(length: int = 7) -> str:
    """A random share code such as ``K7QX3MZ`` (30^7 ≈ 2.2e10 possibilities)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    """Codes are case-insensitive: stored and looked up upper-case."""
    return code.strip().upper()
