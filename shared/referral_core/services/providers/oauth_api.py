"""A provider's API called with an account's OAuth token (the id-only providers: Jobber, ServiceM8).

Their webhooks carry only ids, so the queue consumer reads the record through the provider's API. The
account's token pair lives in a Secrets Manager secret (``{"access_token", "refresh_token"}``):

- 401: the access token has expired; it is refreshed once with the refresh token at the provider's token
  URL and the new pair is stored (providers rotate the refresh token: the old one stops working);
- 429: waits ``Retry-After`` (or the backoff), then tries again;
- 5xx or no answer: waits an exponential backoff, then tries again;
- after ``attempts`` tries, or a refresh the provider refuses, :class:`ProviderApiError`: the queue
  message fails, SQS delivers it again later, and after its ``maxReceiveCount`` it goes to the dead-letter
  queue (the dead-letter path, docs/operations.md);
- 404: :class:`ProviderRecordGone` (the record was deleted since the event): the event is ignored.

Nothing from the answer is logged: only the provider, the status and the attempt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from referral_core.dal.outbound_http import Reply
from referral_core.dal.provider_secrets import ProviderSecret
from referral_core.observability import logger

#: ``send(method, url, body, headers)``: one HTTP request (``outbound_http.request`` in the functions).
Send = Callable[[str, str, bytes | None, dict[str, str]], Reply]

#: The longest a single wait may be (a Retry-After of minutes is left to the queue's own redelivery).
MAX_WAIT_S = 10.0


def ok(answer: Reply) -> bool:
    return answer.status is not None and 200 <= answer.status < 300 and answer.error is None


class ProviderApiError(Exception):
    """The provider's API did not answer usefully within the attempts: the message is retried, then parked."""


class ProviderRecordGone(Exception):
    """404: the record the event names no longer exists."""


@dataclass(frozen=True)
class OAuthClient:
    """The app's OAuth client (its id and secret) and the provider's token URL."""

    token_url: str
    client_id: str
    client_secret: str


@dataclass
class OAuthApi:
    provider: str
    client: OAuthClient
    tokens: ProviderSecret
    send: Send
    backoff_s: float = 0.5
    attempts: int = 4
    sleep: Callable[[float], None] = field(default=time.sleep)

    def json(self, method: str, url: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        """The JSON answer of ``method url`` (``body`` sent as JSON), with the account's token."""
        raw = None if body is None else json.dumps(body).encode()
        sent = {"Accept": "application/json", **({"Content-Type": "application/json"} if raw else {}),
                **(headers or {})}
        refreshed = False
        for attempt in range(self.attempts):
            token = str(self.tokens.current().get("access_token", ""))
            answer = self.send(method, url, raw, {**sent, "Authorization": f"Bearer {token}"})
            if ok(answer):
                try:
                    return json.loads(answer.body)
                except ValueError:
                    raise ProviderApiError(f"{self.provider} answered {answer.status} with no JSON") from None
            if answer.status == 401 and not refreshed:
                self.refresh()
                refreshed = True
                continue
            if answer.status == 404:
                raise ProviderRecordGone(f"{self.provider} has no such record")
            if answer.status == 429 or answer.status is None or answer.status >= 500 or answer.error:
                logger.warning("provider API retry", extra={"provider": self.provider, "status": answer.status,
                                                            "error": answer.error, "attempt": attempt + 1})
                if attempt + 1 < self.attempts:
                    self.sleep(self.wait_s(attempt, answer))
                continue
            raise ProviderApiError(f"{self.provider} answered {answer.status}")
        raise ProviderApiError(f"{self.provider} did not answer usefully in {self.attempts} attempts")

    def wait_s(self, attempt: int, answer: Reply) -> float:
        if answer.status == 429 and answer.retry_after:
            try:
                return min(MAX_WAIT_S, max(0.0, float(answer.retry_after)))
            except ValueError:
                pass
        return float(min(MAX_WAIT_S, self.backoff_s * 2 ** attempt))

    def refresh(self) -> None:
        """Trade the refresh token for a new pair at the token URL, and store the pair."""
        current = self.tokens.current()
        form = urlencode({"grant_type": "refresh_token", "refresh_token": str(current.get("refresh_token", "")),
                          "client_id": self.client.client_id, "client_secret": self.client.client_secret})
        answer = self.send("POST", self.client.token_url, form.encode(),
                           {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        try:
            pair = json.loads(answer.body) if ok(answer) else None
        except ValueError:
            pair = None
        if not isinstance(pair, dict) or not isinstance(pair.get("access_token"), str):
            logger.warning("provider token refresh refused", extra={"provider": self.provider,
                                                                    "status": answer.status})
            raise ProviderApiError(f"{self.provider} refused the token refresh ({answer.status})")
        self.tokens.store({**current, "access_token": pair["access_token"],
                           "refresh_token": pair.get("refresh_token") or current.get("refresh_token")})
        logger.info("provider token refreshed", extra={"provider": self.provider})
