#!/usr/bin/env python3
"""Send one signed job event to the referral system, the way a job system should (Standard Webhooks).

Standard library only: copy this file into your job system's tooling and adapt ``build_body``.

    python scripts/send_job_event.py job.created --job-id J-1001 --lead-id 01J... --email sam@example.com
    python scripts/send_job_event.py job.paid --job-id J-1001 --amount-cents 48000 --webhook-id msg_1
    # the same delivery again (a replay, same id and arguments): the same answer, no second effect
    python scripts/send_job_event.py job.paid --job-id J-1001 --amount-cents 48000 --webhook-id msg_1

A replay must send the same body. ``occurred_at`` defaults to now, so the script remembers the moment it
used for each webhook-id in .local/sent-job-events.json (when .local/ exists) and uses it again when the
same id is sent again without --occurred-at. Elsewhere, pass --occurred-at to replay.

Where to send: --url, else $JOB_WEBHOOK_URL, else http://127.0.0.1:$PORT/webhooks/jobs ($PORT as for
``make run``, default 3000). The secret (``whsec_...``) is read from $WEBHOOK_SECRET, else from
.local/webhook-secret (written by the local stack). Exit status: 0 for a 2xx answer, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

EVENT_TYPES = ("job.created", "job.quoted", "job.invoiced", "job.paid", "job.completed", "job.refunded",
               "job.cancelled")
DEFAULT_SECRET_FILE = Path(".local/webhook-secret")
DEFAULT_SENT_LOG = Path(".local/sent-job-events.json")
SENT_LOG_KEEP = 500  # webhook-ids remembered (the newest)


def default_url(environ: Mapping[str, str] = os.environ) -> str:
    """$JOB_WEBHOOK_URL, else the local stack on $PORT (default 3000)."""
    return environ.get("JOB_WEBHOOK_URL") or f"http://127.0.0.1:{environ.get('PORT') or 3000}/webhooks/jobs"


def remembered_moment(log: Path, webhook_id: str) -> str | None:
    """The ``occurred_at`` sent before under ``webhook_id`` (so a replay sends the same body)."""
    try:
        moments = json.loads(log.read_text())
    except (OSError, ValueError):
        return None
    value = moments.get(webhook_id) if isinstance(moments, dict) else None
    return value if isinstance(value, str) else None


def remember_moment(log: Path, webhook_id: str, occurred_at: str) -> None:
    """Keep ``occurred_at`` for ``webhook_id`` if the log's folder exists (the local stack's .local/)."""
    if not log.parent.is_dir():
        return
    try:
        moments = json.loads(log.read_text()) if log.exists() else {}
    except ValueError:
        moments = {}
    if not isinstance(moments, dict):
        moments = {}
    moments.pop(webhook_id, None)
    moments[webhook_id] = occurred_at
    log.write_text(json.dumps(dict(list(moments.items())[-SENT_LOG_KEEP:]), indent=0))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the key inside ``whsec_<base64>``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = webhook_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def build_body(args: argparse.Namespace) -> dict[str, object]:
    customer = {k: v for k, v in {"email": args.email, "phone": args.phone, "postcode": args.postcode}.items()
                if v}
    data: dict[str, object] = {
        "job_id": args.job_id, "customer": customer, "currency": args.currency,
        "occurred_at": args.occurred_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if args.lead_id:
        data["lead_id"] = args.lead_id
    if args.amount_cents is not None:
        data["amount_cents"] = args.amount_cents
    return {"type": args.type, "data": data}


def read_secret(path: Path) -> str:
    secret = os.environ.get("WEBHOOK_SECRET") or (path.read_text().strip() if path.exists() else "")
    if not secret.startswith("whsec_"):
        sys.exit(f"no whsec_ secret: set WEBHOOK_SECRET or create {path} (the local stack writes it)")
    return secret


def send(url: str, secret: str, body: bytes, webhook_id: str) -> tuple[int, str]:
    timestamp = int(time.time())
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - http(s) URL
        "content-type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - URL given by the user
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("type", choices=EVENT_TYPES)
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--lead-id")
    parser.add_argument("--email")
    parser.add_argument("--phone")
    parser.add_argument("--postcode")
    parser.add_argument("--amount-cents", type=int)
    parser.add_argument("--currency", default="AUD")
    parser.add_argument("--occurred-at", help="ISO-8601 UTC; default now (or, replaying a webhook-id sent "
                                              "from here before, the moment sent then)")
    parser.add_argument("--webhook-id", help="reuse an id to replay a delivery; default a new one")
    parser.add_argument("--url", default=default_url(),
                        help="default $JOB_WEBHOOK_URL, else http://127.0.0.1:$PORT/webhooks/jobs (PORT 3000)")
    parser.add_argument("--secret-file", type=Path, default=DEFAULT_SECRET_FILE)
    parser.add_argument("--sent-log", type=Path, default=DEFAULT_SENT_LOG,
                        help="where the occurred_at of each webhook-id is kept for replays")
    args = parser.parse_args(argv)

    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex}"
    args.occurred_at = (args.occurred_at or remembered_moment(args.sent_log, webhook_id)
                        or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    body = json.dumps(build_body(args), separators=(",", ":")).encode()
    status, answer = send(args.url, read_secret(args.secret_file), body, webhook_id)
    remember_moment(args.sent_log, webhook_id, args.occurred_at)
    print(f"{status} webhook-id={webhook_id} occurred_at={args.occurred_at}\n{answer}")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
