"""Passwordless sign-in as stored: one-time magic links and the fixed-window counters that rate-limit them.

Items (docs/data-model.md): ``magic_link`` ``MAGIC#{sha256(token)}``/``MAGIC`` (only the token's hash is
stored; TTL ``expiration``) and the sign-in ``rate`` counters (``dal.rates``).
The referrer is found by its email hash on gsi1 (``REFEMAIL#{hash}``, access pattern 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from referral_core.dal import keys
from referral_core.dal.dynamo import ConditionFailed, Table
from referral_core.dal.rates import Window, count_hit


def magic_link_key(token_hash: str) -> tuple[str, str]:
    return f"MAGIC#{token_hash}", "MAGIC"


@dataclass(frozen=True)
class MagicLink:
    token_hash: str
    referrer_id: str
    created_at: str
    expires_epoch: int


class SessionRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def referrer_by_email_hash(self, email_hash: str) -> dict[str, Any] | None:
        page = self.table.query("gsi1pk = :pk AND gsi1sk = :sk",
                                {":pk": keys.referrer_by_email_gsi(email_hash), ":sk": "REFERRER"},
                                index="gsi1", limit=1)
        return page.items[0] if page.items else None

    def save_magic_link(self, link: MagicLink) -> None:
        pk, sk = magic_link_key(link.token_hash)
        self.table.put({"pk": pk, "sk": sk, "type": "magic_link", "referrer_id": link.referrer_id,
                        "created_at": link.created_at, "expiration": link.expires_epoch},
                       condition="attribute_not_exists(pk)")

    def consume_magic_link(self, token_hash: str, *, now_epoch: int, at: str) -> str | None:
        """Mark the link used, once, while it is unexpired; returns its referrer id, or None.

        One conditional UpdateItem: two concurrent exchanges of the same token cannot both succeed, and
        an expired item that TTL has not deleted yet is refused by ``expiration > :now``.
        """
        pk, sk = magic_link_key(token_hash)
        try:
            item = self.table.update(pk, sk, "SET used_at = :at",
                                     condition="attribute_exists(pk) AND attribute_not_exists(used_at) "
                                               "AND expiration > :now",
                                     values={":at": at, ":now": now_epoch}, return_new=True)
        except ConditionFailed:
            return None
        return str(item["referrer_id"]) if item else None

    def peek_magic_link(self, token_hash: str, *, now_epoch: int) -> str | None:
        """The referrer id of an unused, unexpired link, without using it (the dashboard's confirm step)."""
        item = self.table.get(*magic_link_key(token_hash), consistent=True)
        if item is None or item.get("used_at") or int(item.get("expiration") or 0) <= now_epoch:
            return None
        return str(item["referrer_id"])

    def count_hit(self, window: Window) -> int:
        return count_hit(self.table, window)
