"""The queue between an id-only provider's webhook (acknowledged at once) and its consumer, which reads
the record through the provider's API (ProviderEventQueue in template.yaml, with its dead-letter queue)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from referral_core.dal.aws import client
from referral_core.dal.dynamo import translate


@dataclass(frozen=True)
class ProviderQueue:
    url: str

    def send(self, message: dict[str, Any]) -> None:
        """One message per provider event: its ids only (no customer details ever pass through here)."""
        try:
            client("sqs").send_message(QueueUrl=self.url, MessageBody=json.dumps(message, sort_keys=True))
        except Exception as exc:
            raise translate(exc) from exc
