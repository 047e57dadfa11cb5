"""The contact index (``contact``): ``CONTACT#{hash}`` holds one item per lead (sk ``LEAD#{id}``), job
(``JOB#{id}``) or approved referrer (``REFERRER#{id}``) with that email/phone hash.

The only place that builds a contact key or reads its sort key: callers get :class:`Owner` back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

OwnerKind = Literal["lead", "job", "referrer"]
_PREFIXES: dict[str, OwnerKind] = {"LEAD": "lead", "JOB": "job", "REFERRER": "referrer"}


class Owner(NamedTuple):
    """Whose a contact item is: the entity kind and its id."""

    kind: OwnerKind
    id: str


def contact_pk(contact_hash: str) -> str:
    return f"CONTACT#{contact_hash}"


def owner_sk(kind: OwnerKind, owner_id: str) -> str:
    """The sort key of a contact item of ``kind`` (also the pk of that entity's own partition)."""
    return f"{kind.upper()}#{owner_id}"


def owner(item: Mapping[str, Any]) -> Owner | None:
    """The entity a contact item points at, None for a sort key of no known kind."""
    prefix, _, owner_id = str(item["sk"]).partition("#")
    kind = _PREFIXES.get(prefix)
    return Owner(kind, owner_id) if kind else None


def owner_partition(item: Mapping[str, Any]) -> str | None:
    """The pk of the entity's own partition (``LEAD#{id}``, ``JOB#{id}``, ``REFERRER#{id}``)."""
    found = owner(item)
    return owner_sk(found.kind, found.id) if found else None


def owned_by(item: Mapping[str, Any], kind: OwnerKind) -> bool:
    """Whether a contact item points at an entity of ``kind``."""
    found = owner(item)
    return found is not None and found.kind == kind
