"""POST /webhooks/jobber and its queue consumer in-process on moto, against a small fake of Jobber's API
(standard-library HTTP server on 127.0.0.1): the signature, the acknowledge-then-queue path, the GraphQL
reads with the account's OAuth token (refresh on 401, backoff on 429, retry on 5xx, then the dead-letter
path), the translation into job events, and replays."""

from __future__ import annotations

import json

import pytest

from referral_core.hashing import email_hash, peppered_hash
from referral_core.models.jobs import ProviderWebhookResponse
from referral_core.services.providers import jobber
from tests.support.aws import PEPPER, template
from tests.support.events import json_body, load_event
from tests.support.fake_provider_api import serving
from tests.support.jobs import item
from tests.support.providers import (
    JOBBER,
    JOBBER_CLIENT_ID,
    JOBBER_CLIENT_SECRET,
    PROVIDER_EVENTS,
    configure_jobber,
    jobber_body,
    jobber_event,
    jobber_signature,
    jobber_tokens,
    put_jobber_tokens,
    queued_messages,
    sqs_event,
)

pytestmark = pytest.mark.integration

GRAPHQL = "/api/graphql"
TOKEN = "/api/oauth/token"
INVOICE = "Z2lkOi8vSm9iYmVyL0ludm9pY2UvNzc3"  # gid://Jobber/Invoice/777
JOB = "Z2lkOi8vSm9iYmVyL0pvYi81NTU="  # gid://Jobber/Job/555
JOB_ID = "jobber-job-555"

CLIENT = {"emails": [{"address": "other@example.com", "primary": False},
                     {"address": "sam.customer@example.com", "primary": True}],
          "phones": [{"number": "0412 345 678", "primary": True}],
          "billingAddress": {"postalCode": "3000"}, "customFields": []}
PAID_INVOICE = {"data": {"invoice": {
    "id": INVOICE, "invoiceStatus": "paid", "amounts": {"total": 480.5},
    "jobs": {"nodes": [{"id": JOB}]},
    "customFields": [{"label": "Referral code", "valueText": " ab12cd "}], "client": CLIENT}}}
COMPLETED_JOB = {"data": {"job": {"id": JOB, "jobStatus": "requires_invoicing",
                                  "completedAt": "2026-11-21T23:31:36Z", "total": 480.5,
                                  "customFields": [], "client": CLIENT}}}


@pytest.fixture
def api():
    with serving() as fake:
        yield fake


@pytest.fixture
def webhook(stack, api):
    configure_jobber(stack)
    put_jobber_tokens("access-1", "refresh-1")
    for name, value in {"JOBBER_API_URL": api.base_url + GRAPHQL, "JOBBER_TOKEN_URL": api.base_url + TOKEN,
                        "PROVIDER_API_ALLOW_PRIVATE": "true", "PROVIDER_API_BACKOFF_MS": "10"}.items():
        stack.monkeypatch.setenv(name, value)
    return stack


def sample(name: str) -> dict:
    """The sample as Jobber would deliver it (the file's headers, signed for its body)."""
    event = load_event(f"jobber/{name}.json")
    event["headers"]["x-jobber-hmac-sha256"] = jobber_signature(event["body"].encode())
    return event


def graphql(answer: dict):
    return lambda request: (200, answer, {})


def process(stack) -> dict:
    """Run the consumer on what the webhook queued (as the SQS event source mapping would)."""
    bodies = queued_messages(stack)
    assert bodies, "nothing was queued"
    return stack.invoke(PROVIDER_EVENTS, sqs_event(*bodies))


def test_the_consumer_publishes_what_it_counted(webhook, api, capsys):
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    assert webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))["statusCode"] == 202
    capsys.readouterr()
    assert webhook.invoke(PROVIDER_EVENTS, sqs_event(*queued_messages(webhook))) == {"batchItemFailures": []}
    # One EMF line of this invocation (not left for the next one to flush)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [doc.get("ProviderEventsRecorded") for doc in emf] == [[1.0]]


def test_a_paid_invoice_is_acknowledged_queued_then_read_and_recorded_as_paid(webhook, api):
    # Given Jobber's API holds the paid invoice of job 555
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)

    # When Jobber posts INVOICE_UPDATE (events/jobber/), correctly signed
    response = webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))

    # Then it is answered at once without calling Jobber, and queued with ids only
    assert response["statusCode"] == 202, response["body"]
    assert json_body(response)["ignored"] is False
    ProviderWebhookResponse.model_validate(json_body(response))  # the documented answer model
    assert api.seen == []
    bodies = queued_messages(webhook)
    assert [json.loads(b)["item_id"] for b in bodies] == [INVOICE]
    assert "example.com" not in bodies[0]

    # When the consumer runs: it reads the invoice with the account's token and the GraphQL version
    out = webhook.invoke(PROVIDER_EVENTS, sqs_event(*bodies))
    assert out == {"batchItemFailures": []}
    (call,) = api.calls(GRAPHQL)
    assert call.headers["authorization"] == "Bearer access-1"
    assert call.headers["x-jobber-graphql-version"] == jobber.GRAPHQL_VERSION
    assert call.json()["variables"] == {"id": INVOICE}

    # Then the job is paid with the total in cents, the primary contacts and the referral code
    job = item(webhook, f"JOB#{JOB_ID}", "JOB")
    assert job["statuses"] == ["paid"]
    assert (job["amount_cents"], job["currency"], job["postcode"]) == (48050, "AUD", "3000")
    assert sorted(job["contact_hashes"]) == sorted([email_hash(PEPPER, "sam.customer@example.com"),
                                                    peppered_hash(PEPPER, "phone", "+61412345678")])
    event = item(webhook, f"JOB#{JOB_ID}", "EVENT#job.paid")
    assert event["webhook_id"].startswith("jobber:INVOICE_UPDATE:")
    assert event["referral_code"] == job["referral_code"] == "AB12CD"
    stored = json.dumps(webhook.items(), default=str)
    assert "sam.customer@" not in stored and "other@example.com" not in stored


def test_a_completed_job_is_completed(webhook, api):
    api.routes[GRAPHQL] = graphql(COMPLETED_JOB)
    assert webhook.invoke(JOBBER, sample("JOB_COMPLETE"))["statusCode"] == 202
    assert process(webhook) == {"batchItemFailures": []}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["completed"]


def test_an_unpaid_invoice_and_an_open_job_change_nothing(webhook, api):
    draft = json.loads(json.dumps(PAID_INVOICE))
    draft["data"]["invoice"]["invoiceStatus"] = "awaiting_payment"
    api.routes[GRAPHQL] = graphql(draft)
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    assert process(webhook) == {"batchItemFailures": []}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB") is None


def test_an_expired_access_token_is_refreshed_once_and_the_new_pair_stored(webhook, api):
    # Given Jobber refuses the stored access token once (expired)
    api.then(GRAPHQL, (401, {"message": "Unauthorized"}, {}))
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    api.routes[TOKEN] = lambda request: (200, {"access_token": "access-2", "refresh_token": "refresh-2"}, {})

    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    assert process(webhook) == {"batchItemFailures": []}

    # Then the refresh token was traded with the app's client credentials, and the new pair is kept
    (refresh,) = api.calls(TOKEN)
    assert refresh.form() == {"grant_type": "refresh_token", "refresh_token": "refresh-1",
                              "client_id": JOBBER_CLIENT_ID, "client_secret": JOBBER_CLIENT_SECRET}
    assert [c.headers["authorization"] for c in api.calls(GRAPHQL)] == ["Bearer access-1", "Bearer access-2"]
    assert jobber_tokens() == {"access_token": "access-2", "refresh_token": "refresh-2"}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["paid"]


def test_a_refused_refresh_fails_the_message_for_the_dead_letter_queue(webhook, api):
    api.routes[GRAPHQL] = lambda request: (401, {"message": "Unauthorized"}, {})
    api.routes[TOKEN] = lambda request: (400, {"error": "invalid_grant"}, {})
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    assert process(webhook) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert jobber_tokens() == {"access_token": "access-1", "refresh_token": "refresh-1"}


def test_429_waits_and_tries_again(webhook, api):
    api.then(GRAPHQL, (429, {"message": "Throttled"}, {"Retry-After": "0"}),
             (429, {"message": "Throttled"}, {}))
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    assert process(webhook) == {"batchItemFailures": []}
    assert len(api.calls(GRAPHQL)) == 3
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["paid"]


def test_5xx_is_retried_then_the_message_fails_and_the_queue_dead_letters_it(webhook, api):
    # A 502 then a success: recorded
    api.then(GRAPHQL, (502, None, {}))
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    assert process(webhook) == {"batchItemFailures": []}

    # Jobber down for every attempt: the message fails (SQS redelivers it, then dead-letters it), nothing written
    api.routes[GRAPHQL] = lambda request: (503, None, {})
    before = len(api.calls(GRAPHQL))
    webhook.invoke(JOBBER, sample("JOB_COMPLETE"))
    assert process(webhook) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert len(api.calls(GRAPHQL)) - before == 4
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["paid"]


def test_the_queue_dead_letters_after_five_receives():
    queue = template().properties("ProviderEventQueue")
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert "ProviderEventDeadLetterQueue" in json.dumps(queue["RedrivePolicy"]["deadLetterTargetArn"])


def test_a_replay_is_idempotent(webhook, api):
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    body = queued_messages(webhook)[0]
    first = webhook.invoke(PROVIDER_EVENTS, sqs_event(body))
    before = webhook.items()
    # Jobber delivers the same webhook again (at-least-once), and SQS the same message again
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    again = webhook.invoke(PROVIDER_EVENTS, sqs_event(*queued_messages(webhook), body))
    assert first == again == {"batchItemFailures": []}
    assert len(api.calls(GRAPHQL)) == 3  # read each time, recorded once
    assert webhook.items() == before


@pytest.mark.parametrize("signature", ["", "bm90IGl0", None])
def test_a_missing_or_wrong_signature_is_401_and_nothing_is_queued(webhook, api, signature):
    body = json.dumps(jobber_body("INVOICE_UPDATE"))
    event = jobber_event(body, secret="another-secret") if signature is None else jobber_event(body,
                                                                                                signature=signature)
    response = webhook.invoke(JOBBER, event)
    assert response["statusCode"] == 401
    assert json_body(response)["error"]["code"] == "unauthorized"
    assert queued_messages_empty(webhook)


def queued_messages_empty(stack) -> bool:
    return not queued_messages(stack)


def test_a_topic_the_adapter_does_not_use_is_200_and_ignored(webhook, api):
    response = webhook.invoke(JOBBER, sample("CLIENT_CREATE"))
    assert response["statusCode"] == 200
    assert json_body(response)["ignored"] is True
    ProviderWebhookResponse.model_validate(json_body(response))
    assert queued_messages_empty(webhook)
    assert api.seen == []


def test_a_signed_body_that_is_not_jobbers_shape_is_refused(webhook):
    assert webhook.invoke(JOBBER, jobber_event("not json"))["statusCode"] == 400
    bad = jobber_body("INVOICE_UPDATE", itemId="a b")
    response = webhook.invoke(JOBBER, jobber_event(bad))
    assert response["statusCode"] == 422
    assert "data.webHookEvent.itemId" in json_body(response)["error"]["fields"]


def test_external_ids_and_amounts():
    assert jobber.external_id(JOB) == JOB_ID
    assert jobber.external_id(INVOICE) == "jobber-invoice-777"
    assert jobber.external_id("weird id/+=") == "jobber-weirdid"
    assert jobber.to_cents(480.5) == 48050 and jobber.to_cents("12.345") == 1234
    assert jobber.to_cents(None) is None and jobber.to_cents(-1) is None and jobber.to_cents(True) is None


def test_a_store_failure_fails_the_message_and_its_redelivery_records_it(webhook, api, monkeypatch):
    # Given the table refuses the job's write once (after the idempotency record was taken)
    from referral_core.errors import Unavailable
    from referral_core.services.providers import ingest

    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    body = queued_messages(webhook)[0]
    real = ingest.record_job_event

    def busy(*args, **kwargs):
        raise Unavailable("the database is busy, please retry")

    monkeypatch.setattr(ingest, "record_job_event", busy)
    assert webhook.invoke(PROVIDER_EVENTS, sqs_event(body)) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB") is None

    # When SQS delivers the message again: the in-progress record was released, so it is recorded
    monkeypatch.setattr(ingest, "record_job_event", real)
    assert webhook.invoke(PROVIDER_EVENTS, sqs_event(body)) == {"batchItemFailures": []}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["paid"]


def test_the_consumer_sample_event_records_the_paid_invoice(webhook, api):
    # events/process_provider_events/jobber-invoice-paid.json: what `sam local invoke -e` gives the consumer
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    out = webhook.invoke(PROVIDER_EVENTS, load_event("process_provider_events/jobber-invoice-paid.json"))
    assert out == {"batchItemFailures": []}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["paid"]


def test_logs_carry_no_contact_details_or_tokens(webhook, api, capsys, caplog):
    api.then(GRAPHQL, (401, {"message": "Unauthorized"}, {}))
    api.routes[GRAPHQL] = graphql(PAID_INVOICE)
    api.routes[TOKEN] = lambda request: (200, {"access_token": "access-2", "refresh_token": "refresh-2"}, {})
    webhook.invoke(JOBBER, sample("INVOICE_UPDATE"))
    assert process(webhook) == {"batchItemFailures": []}
    out = capsys.readouterr()
    # every record with its extra keys (caplog.text would show the messages only)
    logged = out.out + out.err + json.dumps([vars(r) for r in caplog.records], default=str)
    assert "provider event processed" in logged
    for secret in ("sam.customer@", "other@example.com", "0412", "412345678", "access-1", "access-2", "refresh-",
                   JOBBER_CLIENT_SECRET):
        assert secret not in logged, secret
