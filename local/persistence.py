"""Local data that survives restarts: table items and the SES outbox, kept as JSON in the local directory.

Tables are snapshotted whole (the local tool may read everything; no request path does) when their
content changed, and restored with BatchWriteItem before the stream poller starts, so restored items do
not trigger consumers. The outbox reads the messages moto's SES backend keeps in this process.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.resources import write_private
from local.template import ACCOUNT_ID, REGION

log = logging.getLogger("local.persistence")


def _encode(value: Any) -> Any:
    """DynamoDB JSON from the low-level client -> JSON-safe (binary as {"__b64__": ...})."""
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class TableSnapshots:
    """Saves and restores every table's items under `<local_dir>/tables/<LogicalId>.json`."""

    def __init__(self, ddb_client: Any, tables: Mapping[str, str], local_dir: Path) -> None:
        self._ddb = ddb_client
        self._tables = dict(tables)  # logical id -> table name
        self._dir = local_dir / "tables"
        self._digests: dict[str, str] = {}

    def _path(self, logical_id: str) -> Path:
        return self._dir / f"{logical_id}.json"

    def restore(self) -> dict[str, int]:
        """Load the saved items into the (new, empty) tables; returns item counts."""
        counts = {}
        for logical_id, name in self._tables.items():
            path = self._path(logical_id)
            if not path.exists():
                continue
            text = path.read_text(encoding="utf-8")
            items = [_decode(i) for i in json.loads(text)]
            try:
                self._put_all(name, items)
            except ClientError as exc:  # e.g. the key schema changed in template.yaml
                kept = path.with_name(f"{path.stem}.rejected-{int(time.time())}.json")
                path.replace(kept)
                log.warning("could not restore %s (%s); the snapshot was moved to %s", logical_id, exc, kept)
                continue
            self._digests[logical_id] = hashlib.sha256(text.encode()).hexdigest()
            counts[logical_id] = len(items)
        return counts

    def _put_all(self, table_name: str, items: list[Any]) -> None:
        for start in range(0, len(items), 25):
            request = {table_name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while request:
                request = self._ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def snapshot(self) -> None:
        """Write each table whose content changed since the last snapshot."""
        for logical_id, name in self._tables.items():
            items: list[Any] = []
            for page in self._ddb.get_paginator("scan").paginate(TableName=name):
                items.extend(_encode(i) for i in page.get("Items", []))
            items.sort(key=lambda i: json.dumps(i, sort_keys=True))
            text = json.dumps(items, sort_keys=True)
            digest = hashlib.sha256(text.encode()).hexdigest()
            if self._digests.get(logical_id) != digest:
                write_private(self._path(logical_id), text)
                self._digests[logical_id] = digest


class _StampedList(list[Any]):
    """moto appends sent messages to a list; this one remembers when each was appended."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__(items)
        self.sent_at: dict[int, float] = {id(i): time.time() for i in items}

    def append(self, item: Any) -> None:
        self.sent_at[id(item)] = time.time()
        super().append(item)


def _looks_like_html(body: str) -> bool:
    return bool(re.search(r"<(html|body|p|div|a|br|table|h\d)\b", body, re.IGNORECASE))


def _strip_tags(html: str) -> str:
    """A readable plain-text version of a simple HTML email (paragraphs and line breaks kept, and each
    link's address after its label: moto keeps only the HTML part of a message sent with both, and the
    text part the app sends has the addresses)."""
    text = re.sub(r"(?is)<a\s[^>]*?href=\"([^\"]*)\"[^>]*>(.*?)</a>", _link_text, html)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|h\d|li|tr)>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html_lib.unescape(text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


def _link_text(match: re.Match[str]) -> str:
    href = html_lib.unescape(match.group(1))
    label = re.sub(r"<[^>]+>", "", match.group(2))
    return label if html_lib.unescape(label).strip() == href else f"{label} ({html_lib.escape(href)})"


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def _entry(message: Any, sent_at: float) -> dict[str, Any] | None:
    """One moto SES message as an outbox entry (the app sends simple emails: SendEmail)."""
    if hasattr(message, "body"):
        body = message.body or ""
        html_body = body if _looks_like_html(body) else None
        destinations = message.destinations or {}
        to = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key, [])]
        return {
            "id": message.id,
            "source": message.source,
            "to": to,
            "subject": message.subject,
            "text": _strip_tags(body) if html_body else body,
            "html": html_body,
            "sent_at": _iso(sent_at),
        }
    return None  # raw and templated messages are not rendered locally


class Outbox:
    """Emails sent through moto SES in this process, plus those saved by earlier runs."""

    def __init__(self, local_dir: Path) -> None:
        self._path = local_dir / "outbox.json"
        self._saved: list[dict[str, Any]] = (
            json.loads(self._path.read_text(encoding="utf-8")) if self._path.exists() else []
        )
        self._written = len(self._saved)
        self._lock = threading.Lock()
        self._added: list[dict[str, Any]] = []
        self._added_lock = threading.Lock()
        from moto.ses.models import ses_backends

        backend = ses_backends[ACCOUNT_ID][REGION]
        if not isinstance(backend.sent_messages, _StampedList):
            backend.sent_messages = _StampedList(backend.sent_messages)
        self._sent: _StampedList = backend.sent_messages

    def messages(self) -> list[dict[str, Any]]:
        current = [e for m in list(self._sent) if (e := _entry(m, self._sent.sent_at.get(id(m), time.time())))]
        with self._added_lock:
            added = list(self._added)
        return [*self._saved, *sorted([*current, *added], key=lambda e: str(e["sent_at"]))]

    def add(self, *, source: str, to: str, subject: str, text: str) -> None:
        """An email the local stack sends itself, not through SES (Cognito's verification codes)."""
        with self._added_lock:
            self._added.append({"id": f"local-{len(self._added) + 1}-{int(time.time() * 1000)}", "source": source,
                                "to": [to], "subject": subject, "text": text, "html": None,
                                "sent_at": _iso(time.time())})

    def save(self) -> None:
        with self._lock:
            messages = self.messages()
            if len(messages) != self._written:
                write_private(self._path, json.dumps(messages, indent=1))
                self._written = len(messages)
