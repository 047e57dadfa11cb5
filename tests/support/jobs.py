"""Helpers for the job webhook and attribution tests: signing secrets, signed deliveries, and the lead,
click, share-code, programme and contact items that lead capture and the redirect write (seeded here to
the contract of docs/data-model.md, so these tests do not depend on those features' code)."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from standardwebhooks.webhooks import Webhook

from referral_core.hashing import email_hash, peppered_hash
from tests.support import iam_usage
from tests.support.aws import PEPPER, REGION, STREAM_READER, WEBHOOK_SECRET, Stack, lambda_context, template
from tests.support.events import http_event, load_event, stream_event, stream_record

WEBHOOK = "JobWebhookFunction"
ATTRIBUTE = "attribute_referral"
MISSING_JOBS = "FlagMissingJobLinksFunction"




def invoke_concurrently(stack: Stack, logical_id: str, events: list[dict[str, Any]], *,
                        containers: int = 8) -> list[Any]:
    """Deliver ``events`` at once to ``containers`` warm instances of the function (or of the stream
    consumer of that name), as Lambda scales out.

    Each instance is its own import of the handler module (a Powertools resolver serves one request at a
    time, like a Lambda container), and each works through its share of the events in its own thread.
    """
    reader = logical_id if logical_id in template().functions else STREAM_READER
    fn = template().functions[reader]
    handlers = []
    for _ in range(containers):
        stack._modules.pop(reader, None)
        module = stack.function(reader)
        if reader == logical_id:
            handlers.append(getattr(module, fn.func_name))
            continue
        route = module.handler.dispatcher.by_name[logical_id]
        assert route.handlers  # imported now: each container has its own consumer module (its own cold start)
        handlers.append(route.handler)
    results: list[Any] = [None] * len(events)

    def container(index: int) -> None:
        for position in range(index, len(events), containers):
            with iam_usage.running(reader):  # a consumer's calls are its stream reader's
                results[position] = handlers[index](events[position], lambda_context(fn))

    with ThreadPoolExecutor(max_workers=containers) as pool:
        list(pool.map(container, range(containers)))
    return results


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def configure_webhook_secrets(stack: Stack, *whsecs: str) -> str:
    """Create the template's WebhookSecret on moto holding ``whsecs``; point the function at its ARN."""
    name = template().functions[WEBHOOK].env["WEBHOOK_SECRET_ARN"].rsplit(":", 1)[-1]
    sm = boto3.client("secretsmanager", region_name=REGION)
    value = json.dumps({"secrets": list(whsecs or (WEBHOOK_SECRET,))})
    try:
        arn = sm.create_secret(Name=name, SecretString=value)["ARN"]
    except sm.exceptions.ResourceExistsException:
        arn = sm.put_secret_value(SecretId=name, SecretString=value)["ARN"]
    stack.env["WEBHOOK_SECRET_ARN"] = arn
    stack.monkeypatch.setenv("WEBHOOK_SECRET_ARN", arn)
    return arn


def job_body(event_type: str, job_id: str = "J-1001", **data: Any) -> dict[str, Any]:
    """A webhook body based on the sample in events/job_webhook/, with ``data`` fields replaced."""
    sample = json.loads(load_event("job_webhook/job.created.json")["body"])
    sample["type"] = event_type
    sample["data"] = {**sample["data"], "job_id": job_id, **data}
    return {k: v for k, v in sample.items() if v is not None}


def signed_event(body: dict[str, Any] | str | bytes, *, secret: str = WEBHOOK_SECRET,
                 webhook_id: str | None = None, at: datetime | None = None,
                 headers: dict[str, str] | None = None, base64_body: bool = False) -> dict[str, Any]:
    """An HTTP API event for POST /webhooks/jobs signed with the reference implementation."""
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    text = raw.decode() if isinstance(raw, bytes) else raw
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    moment = at or datetime.now(UTC)
    signature = Webhook(secret).sign(webhook_id, moment, text)
    all_headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(moment.timestamp())),
                   "webhook-signature": signature, "content-type": "application/json",
                   **(headers or {})}
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    return http_event("POST", "/webhooks/jobs", raw_body=text.encode() if base64_body else text,
                      headers=all_headers)


def post_job_event(stack: Stack, event_type: str, job_id: str = "J-1001", *,
                   webhook_id: str | None = None, **data: Any) -> dict[str, Any]:
    return stack.invoke(WEBHOOK, signed_event(job_body(event_type, job_id, **data), webhook_id=webhook_id))


# -- seeds to the data-model contract ------------------------------------------------------------------
def iso_days_ago(days: float, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def contact_hashes(email: str | None = None, phone: str | None = None) -> dict[str, str]:
    out = {}
    if email:
        out["email_hash"] = email_hash(PEPPER, email)
    if phone:
        out["phone_hash"] = peppered_hash(PEPPER, "phone", phone)
    return out


def put(stack: Stack, item: dict[str, Any]) -> dict[str, Any]:
    from referral_core.dal.dynamo import serialize

    stack.dynamodb.put_item(TableName=stack.table_name, Item=serialize(item))
    return item


def seed_click(stack: Stack, cid: str, code: str, referrer_id: str, clicked_at: str) -> dict[str, Any]:
    return put(stack, {"pk": f"CLICK#{cid}", "sk": "CLICK", "type": "click", "click_id": cid, "code": code,
                       "referrer_id": referrer_id, "clicked_at": clicked_at, "src": "link",
                       "placement": "-"})


def seed_program(stack: Stack, attribution: dict[str, Any]) -> dict[str, Any]:
    """Save the default rules with these ``attribution`` rules as the next version, exactly as
    ``PUT /admin/program`` does (``services.program.update_program``)."""
    from referral_core.dal.dynamo import Table
    from referral_core.dal.program import ProgramRepository
    from referral_core.models.program import UpdateProgramRequest, default_rules
    from referral_core.services.program import current_program, update_program

    repo = ProgramRepository(Table(stack.table_name))
    request = UpdateProgramRequest.model_validate({
        **default_rules().model_dump(mode="json"), "attribution": attribution,
        "expected_version": current_program(repo).version})
    return update_program(repo, request, actor="test").model_dump(mode="json")


def seed_legacy_program(stack: Stack, attribution: dict[str, Any]) -> dict[str, Any]:
    """A ``PROGRAM``/``CURRENT`` item in the shape the resolver read before issue 16: a top-level
    ``attribution`` with the old source names, no ``rules`` and no ``version``."""
    return put(stack, {"pk": "PROGRAM", "sk": "CURRENT", "type": "program", "attribution": attribution})


def lead_item(lead_id: str | None = None, *, source: str = "quick_help", ref: str | None = None,
              code_valid: bool = False, referrer_id: str | None = None, cid: str | None = None,
              referred_by: str | None = None, email: str | None = "sam.customer@example.com",
              phone: str | None = None, name: str = "Sam Customer", postcode: str = "3000",
              created_at: str | None = None, ref_via: str | None = None) -> dict[str, Any]:
    lead_id = lead_id or f"L{uuid.uuid4().hex[:12].upper()}"
    item: dict[str, Any] = {
        "pk": f"LEAD#{lead_id}", "sk": "LEAD", "type": "lead", "lead_id": lead_id, "source": source,
        "ref": ref, "ref_status": "attributed" if code_valid else ("unknown" if ref else None),
        "ref_via": ref_via, "referrer_id": referrer_id, "cid": cid,
        "referred_by": referred_by, "name": name, "postcode": postcode,
        "created_at": created_at or iso_days_ago(0), **contact_hashes(email, phone),
    }
    return {k: v for k, v in item.items() if v is not None}


def seed_lead(stack: Stack, **kwargs: Any) -> dict[str, Any]:
    """The lead and its contact index items, as lead capture writes them."""
    lead = put(stack, lead_item(**kwargs))
    for key in ("email_hash", "phone_hash"):
        if key in lead:
            put(stack, {"pk": f"CONTACT#{lead[key]}", "sk": f"LEAD#{lead['lead_id']}", "type": "contact",
                        "lead_id": lead["lead_id"], "created_at": lead["created_at"]})
    return lead


def item(stack: Stack, pk: str, sk: str) -> dict[str, Any] | None:
    from referral_core.dal.dynamo import deserialize

    out = stack.dynamodb.get_item(TableName=stack.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return deserialize(out["Item"]) if "Item" in out else None


def lead_inserted(stack: Stack, lead: dict[str, Any]) -> dict[str, Any]:
    """Deliver the lead's INSERT stream record to the attribution function."""
    return stack.consume(ATTRIBUTE, stream_event(stream_record("INSERT", new=lead)))


def job_changed(stack: Stack, job_id: str, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """Deliver the job item's current state as a stream record (INSERT, or MODIFY from ``old``)."""
    job = item(stack, f"JOB#{job_id}", "JOB")
    assert job is not None
    name = "MODIFY" if old is not None else "INSERT"
    return stack.consume(ATTRIBUTE, stream_event(stream_record(name, new=job, old=old)))


def referral(stack: Stack, lead_id: str) -> dict[str, Any] | None:
    return item(stack, f"LEAD#{lead_id}", "REFERRAL")
