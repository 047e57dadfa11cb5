"""POST /webhooks/stripe in-process on moto (issue 20, Stripe): Stripe's documented event shapes
(events/stripe/), signed by the ``stripe`` library's own helper, become job events once.

Each mapping, the 401 paths (nothing written), secret rotation, replays, ignored events, and a referral
through ``metadata.referral_code`` that reaches paid and earns its reward.
"""

from __future__ import annotations

import json
import time

import pytest

from referral_core.services.attribution import job_lead_id
from tests.support.events import json_body
from tests.support.jobs import item
from tests.support.leads import create_referrer
from tests.support.rewards import repos, save_rules
from tests.support.stream_pump import StreamPump
from tests.support.stripe_events import (
    ENDPOINT_SECRET,
    STRIPE,
    configure_stripe_secrets,
    post_stripe,
    signed,
    stripe_body,
)

pytestmark = pytest.mark.integration

OLD_SECRET = "whsec_test_oldoldoldoldoldoldoldold"
NEW_SECRET = "whsec_test_newnewnewnewnewnewnewnew"
PI = "pi_3MtwBwLkdIwHu7ix28a3tqPa"


@pytest.fixture
def webhook(stack):
    configure_stripe_secrets(stack)
    return stack


def job(stack, job_id):
    return item(stack, f"JOB#{job_id}", "JOB")


def written(stack):
    """What a delivery may write: jobs, their events and refs, idempotency records."""
    return [i for i in stack.items() if i["pk"].startswith(("JOB#", "JOBREF#", "idempotency#"))]


def ok(response):
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


# -- each mapping ------------------------------------------------------------------------------------
def test_invoice_paid_is_the_job_paid_and_completed_under_its_metadata_job_id(webhook):
    answer = ok(post_stripe(webhook, stripe_body("invoice.paid")))
    assert answer == {"provider": "stripe", "event_id": "evt_1MtHbFLkdIwHu7ixGtb1nWfE", "ignored": False,
                      "job_id": "J-2001", "type": "job.paid", "applied": True, "statuses": ["completed", "paid"]}
    stored = job(webhook, "J-2001")
    assert (stored["amount_cents"], stored["currency"], stored["referral_code"], stored["postcode"]) == (
        48000, "AUD", "K7QX3MZ", "3000")
    assert stored["email_hash"] and stored["phone_hash"]
    events = {i["sk"]: i for i in webhook.items() if i["pk"] == "JOB#J-2001" and i["sk"].startswith("EVENT#")}
    assert set(events) == {"EVENT#job.paid", "EVENT#job.completed"}
    assert {e["webhook_id"] for e in events.values()} == {"stripe:evt_1MtHbFLkdIwHu7ixGtb1nWfE"}
    for event in events.values():  # the job event's fields only: nothing of Stripe's raw event, no contact
        assert not {"email", "phone", "customer", "lines", "hosted_invoice_url"} & set(event)
    # Stripe's ids of the payment point at the job the invoice named
    refs = {i["ref"]: i["job_id"] for i in webhook.items_of_type("job_ref")}
    assert refs == {PI: "J-2001", "ch_3MtwBwLkdIwHu7ix1mS9hDtN": "J-2001", "in_1MtHbELkdIwHu7ixl4OzzPMv": "J-2001"}


def test_invoice_payment_succeeded_without_a_job_id_is_the_payment_intents_job(webhook):
    answer = ok(post_stripe(webhook, stripe_body("invoice.payment_succeeded")))
    assert (answer["job_id"], answer["type"]) == ("pi_3MtHcQLkdIwHu7ix0qzRRcdS", "job.paid")
    stored = job(webhook, "pi_3MtHcQLkdIwHu7ix0qzRRcdS")
    assert (stored["amount_cents"], stored["lead_id"]) == (9900, "01JDEMOLEAD0000000000000001")


def test_invoice_paid_and_payment_succeeded_of_one_invoice_make_one_job(webhook):
    ok(post_stripe(webhook, stripe_body("invoice.paid")))
    again = ok(post_stripe(webhook, stripe_body("invoice.paid", id="evt_other", type="invoice.payment_succeeded")))
    assert (again["job_id"], again["applied"]) == ("J-2001", False)


def test_job_completed_false_in_metadata_records_only_the_payment(webhook):
    body = stripe_body("invoice.paid", object={"metadata": {"job_id": "J-2002", "job_completed": "false"}})
    assert ok(post_stripe(webhook, body))["statuses"] == ["paid"]


def test_checkout_session_completed_uses_client_reference_id_and_the_promotion_code(webhook, monkeypatch):
    module = webhook.function(STRIPE)
    looked_up = []
    monkeypatch.setattr(module, "promotion_code", lambda pid: looked_up.append(pid) or "k7qx3mz")
    answer = ok(post_stripe(webhook, stripe_body("checkout.session.completed")))
    assert (answer["job_id"], answer["type"], answer["statuses"]) == ("J-3001", "job.paid", ["completed", "paid"])
    stored = job(webhook, "J-3001")
    assert (stored["amount_cents"], stored["currency"], stored["referral_code"]) == (25000, "AUD", "K7QX3MZ")
    assert looked_up == ["promo_1MiM6KLkdIwHu7ixrIaX4wgn"]


def test_promotion_code_without_a_restricted_key_is_not_read(webhook):
    ok(post_stripe(webhook, stripe_body("checkout.session.completed")))
    assert "referral_code" not in job(webhook, "J-3001")


def test_an_expanded_promotion_code_is_read_from_the_event(webhook):
    body = stripe_body("checkout.session.completed", object={
        "discounts": [{"coupon": "SPRING20", "promotion_code": {"id": "promo_1", "object": "promotion_code",
                                                                "code": "QRPARK2"}}]})
    ok(post_stripe(webhook, body))
    assert job(webhook, "J-3001")["referral_code"] == "QRPARK2"


# -- an invoice that names its customer but no email (localstripe's, or an invoice made before the email) --
FRIEND = "sam.friend@example.com"
NO_CONTACT = {"customer_email": None, "customer_phone": None, "customer_address": None,
              "customer": "cus_NffrFeUfNV2Hib"}


def contact_hashed(stored, email):
    from referral_core.hashing import email_hash, email_match_hash
    from tests.support.aws import PEPPER

    return stored.get("email_hash") in (email_hash(PEPPER, email), email_match_hash(PEPPER, email))


def test_an_invoice_without_an_email_reads_its_customer_through_the_api(webhook, monkeypatch):
    module = webhook.function(STRIPE)
    looked_up = []
    monkeypatch.setattr(module, "customer", lambda cid: looked_up.append(cid) or {
        "id": cid, "object": "customer", "email": FRIEND, "phone": "+61412000222",
        "address": {"postal_code": "3121"}})
    ok(post_stripe(webhook, stripe_body("invoice.paid", object=NO_CONTACT)))
    stored = job(webhook, "J-2001")
    assert looked_up == ["cus_NffrFeUfNV2Hib"]
    assert contact_hashed(stored, FRIEND) and stored["phone_hash"] and stored["postcode"] == "3121"


def test_the_invoices_own_contact_fields_win_over_its_customers(webhook, monkeypatch):
    module = webhook.function(STRIPE)
    monkeypatch.setattr(module, "customer", lambda cid: {"id": cid, "email": FRIEND,
                                                         "address": {"postal_code": "9999"}})
    ok(post_stripe(webhook, stripe_body("invoice.paid", object={"customer_email": None})))
    stored = job(webhook, "J-2001")
    assert contact_hashed(stored, FRIEND) and stored["postcode"] == "3000"


def test_an_invoice_with_an_email_or_an_expanded_customer_is_not_looked_up(webhook, monkeypatch):
    module = webhook.function(STRIPE)
    monkeypatch.setattr(module, "customer", lambda cid: pytest.fail("looked up"))
    ok(post_stripe(webhook, stripe_body("invoice.paid")))
    expanded = {**NO_CONTACT, "customer": {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": FRIEND},
                "metadata": {"job_id": "J-2003"}}
    ok(post_stripe(webhook, stripe_body("invoice.paid", id="evt_expanded", object=expanded)))
    assert contact_hashed(job(webhook, "J-2003"), FRIEND)


def test_without_a_restricted_key_or_for_a_deleted_customer_the_job_has_no_contact(webhook, monkeypatch):
    ok(post_stripe(webhook, stripe_body("invoice.paid", object=NO_CONTACT)))  # no api_key: no lookup
    assert "email_hash" not in job(webhook, "J-2001")
    module = webhook.function(STRIPE)
    monkeypatch.setattr(module, "customer", lambda cid: {"id": cid, "object": "customer", "deleted": True})
    ok(post_stripe(webhook, stripe_body("invoice.paid", id="evt_deleted",
                                        object={**NO_CONTACT, "metadata": {"job_id": "J-2004"}})))
    assert "email_hash" not in job(webhook, "J-2004")


@pytest.mark.parametrize(("amounts", "cents"), [({"amount_paid": None}, 48000),
                                                ({"amount_paid": None, "amount_due": None, "total": 47000}, 47000),
                                                ({"amount_paid": 0}, 0)])
def test_a_paid_invoice_without_amount_paid_uses_amount_due_then_total(webhook, amounts, cents):
    ok(post_stripe(webhook, stripe_body("invoice.paid", object=amounts)))
    assert job(webhook, "J-2001")["amount_cents"] == cents


def test_the_customer_is_read_with_the_restricted_key_from_stripes_api(stack, monkeypatch):
    """The real client path (``stripe.StripeClient``) against a standard-library fake of Stripe's API."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class FakeStripe(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            status, body = (200, {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": FRIEND}) \
                if self.path == "/v1/customers/cus_NffrFeUfNV2Hib" else (
                404, {"error": {"type": "invalid_request_error", "message": "No such customer"}})
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStripe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        stack.env["STRIPE_API_URL"] = url
        monkeypatch.setenv("STRIPE_API_URL", url)
        configure_stripe_secrets(stack, api_key="rk_test_customers_read")
        ok(post_stripe(stack, stripe_body("invoice.paid", object=NO_CONTACT)))
        assert contact_hashed(job(stack, "J-2001"), FRIEND)
        assert seen == [("/v1/customers/cus_NffrFeUfNV2Hib", "Bearer rk_test_customers_read")]
        # a customer Stripe does not know: the job is recorded without contact details
        ok(post_stripe(stack, stripe_body("invoice.paid", id="evt_unknown",
                                          object={**NO_CONTACT, "customer": "cus_unknown",
                                                  "metadata": {"job_id": "J-2005"}})))
        assert "email_hash" not in job(stack, "J-2005")
    finally:
        server.shutdown()
        server.server_close()


def test_an_unpaid_checkout_is_ignored(webhook):
    body = stripe_body("checkout.session.completed", object={"payment_status": "unpaid"})
    assert ok(post_stripe(webhook, body))["ignored"] is True
    assert written(webhook) == []


@pytest.mark.parametrize(("sample", "refunded"), [("charge.refunded", 48000), ("charge.refunded.partial", 12000)])
def test_charge_refunded_reaches_the_invoices_job_full_or_partial(webhook, sample, refunded):
    ok(post_stripe(webhook, stripe_body("invoice.paid")))
    answer = ok(post_stripe(webhook, stripe_body(sample)))
    assert (answer["job_id"], answer["type"], answer["statuses"]) == (
        "J-2001", "job.refunded", ["completed", "paid", "refunded"])
    assert job(webhook, "J-2001")["refunded_cents"] == refunded


def test_a_dispute_puts_the_invoices_job_on_hold(webhook):
    ok(post_stripe(webhook, stripe_body("invoice.paid")))
    answer = ok(post_stripe(webhook, stripe_body("charge.dispute.created")))
    assert (answer["job_id"], answer["type"]) == ("J-2001", "job.disputed")
    assert "disputed" in job(webhook, "J-2001")["statuses"]


def test_a_refund_for_a_payment_never_seen_is_the_payment_intents_job(webhook):
    answer = ok(post_stripe(webhook, stripe_body("charge.refunded")))
    assert (answer["job_id"], answer["statuses"]) == (PI, ["refunded"])


def test_an_unknown_event_is_acknowledged_and_ignored(webhook):
    answer = ok(post_stripe(webhook, stripe_body("customer.created")))
    assert answer == {"provider": "stripe", "event_id": "evt_1NffrGLkdIwHu7ixq6tEhN0y", "ignored": True,
                      "job_id": None, "type": None, "applied": False, "statuses": []}
    assert written(webhook) == []


def test_a_replay_gets_the_first_answer_and_changes_nothing(webhook):
    first = ok(post_stripe(webhook, stripe_body("invoice.paid")))
    before = [i for i in written(webhook) if not i["pk"].startswith("idempotency#")]
    again = ok(post_stripe(webhook, stripe_body("invoice.paid")))
    assert again == first
    assert [i for i in written(webhook) if not i["pk"].startswith("idempotency#")] == before


# -- signatures --------------------------------------------------------------------------------------
BAD_HEADERS = {
    "missing": "",
    "garbage": "not-a-stripe-signature",
    "no v1": f"t={int(time.time())},v0=abc",
    "wrong v1": f"t={int(time.time())},v1={'0' * 64}",
}


@pytest.mark.parametrize("header", list(BAD_HEADERS.values()), ids=list(BAD_HEADERS))
def test_a_missing_or_bad_signature_is_401_and_nothing_is_written(webhook, header):
    response = webhook.invoke(STRIPE, signed(stripe_body("invoice.paid"), header=header))
    assert response["statusCode"] == 401, response["body"]
    assert json_body(response)["error"]["code"] == "unauthorized"
    assert written(webhook) == []


def test_another_secret_a_tampered_body_or_a_stale_timestamp_is_401(webhook):
    body = stripe_body("invoice.paid")
    tampered = signed(body)
    tampered["body"] = tampered["body"].replace("48000", "98000")
    for event in (signed(body, secrets=("whsec_someone_else",)), tampered,
                  signed(body, timestamp=int(time.time()) - 301)):
        response = webhook.invoke(STRIPE, event)
        assert response["statusCode"] == 401, response["body"]
    assert written(webhook) == []


def test_a_timestamp_within_300_seconds_is_accepted(webhook):
    ok(post_stripe(webhook, stripe_body("invoice.paid"), timestamp=int(time.time()) - 290))


def test_rotation_several_v1_and_several_secrets(stack):
    # Stripe rolls an endpoint's secret: for a while it signs with the old and the new one (two v1)
    configure_stripe_secrets(stack, NEW_SECRET)
    ok(post_stripe(stack, stripe_body("invoice.paid"), secrets=(OLD_SECRET, NEW_SECRET)))
    # both secrets configured here while deliveries still come signed by the old one only
    configure_stripe_secrets(stack, OLD_SECRET, NEW_SECRET)
    stack._modules.pop(STRIPE, None)  # a new container reads the secret again
    ok(post_stripe(stack, stripe_body("invoice.payment_succeeded"), secrets=(OLD_SECRET,)))
    # the old secret gone: a delivery signed by it alone is refused
    configure_stripe_secrets(stack, NEW_SECRET)
    stack._modules.pop(STRIPE, None)
    refused = stack.invoke(STRIPE, signed(stripe_body("charge.refunded"), secrets=(OLD_SECRET,)))
    assert refused["statusCode"] == 401


def test_a_signed_body_that_is_no_stripe_event_is_400(webhook):
    for body in ("[1, 2]", json.dumps({"id": "evt_1", "type": "invoice.paid"}), "{not json"):
        response = webhook.invoke(STRIPE, signed(body))
        assert response["statusCode"] == 400, response["body"]
    assert written(webhook) == []


def test_base64_bodies_are_read_as_bytes(webhook):
    import base64

    event = signed(stripe_body("invoice.paid"))
    event["body"], event["isBase64Encoded"] = base64.b64encode(event["body"].encode()).decode(), True
    assert ok(webhook.invoke(STRIPE, event))["job_id"] == "J-2001"


def test_the_endpoint_secret_sample_signature_is_refused(webhook):
    from tests.support.events import load_event

    response = webhook.invoke(STRIPE, load_event("stripe/invoice.paid.json"))
    assert response["statusCode"] == 401
    assert ENDPOINT_SECRET not in response["body"]


# -- a referral through Stripe -------------------------------------------------------------------------
def test_a_referral_code_in_invoice_metadata_reaches_paid_and_earns_a_reward(webhook):
    save_rules(webhook, require_review=False)
    referrer = create_referrer(webhook, email="jo.referrer@example.com")
    pump = StreamPump(webhook)
    pump.drain()
    body = stripe_body("invoice.paid", object={"metadata": {"job_id": "J-4001", "referral_code": referrer["code"]}})
    ok(post_stripe(webhook, body))
    pump.drain()

    lead_id = job_lead_id("J-4001")
    referral = item(webhook, f"LEAD#{lead_id}", "REFERRAL")
    assert (referral["referrer_id"], referral["code"], referral["job_id"]) == (
        referrer["referrer_id"], referrer["code"], "J-4001")
    assert referral["progress_stage"] in ("customer_paid", "reward_pending")
    reward = repos(webhook).rewards.get("J-4001")
    assert (reward["state"], reward["referrer_id"]) == ("pending", referrer["referrer_id"])

    # the customer's refund names only the charge and the payment: the reward is reversed
    ok(post_stripe(webhook, stripe_body("charge.refunded")))
    pump.drain()
    assert repos(webhook).rewards.get("J-4001")["state"] == "reversed"


# -- the documented answer ---------------------------------------------------------------------------
def test_both_answers_are_the_documented_model(webhook):
    from referral_core.models.jobs import ProviderWebhookResponse
    from tests.support.routes import SPEC

    schema = SPEC["paths"]["/webhooks/stripe"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    for sample in ("invoice.paid", "customer.created"):
        answer = ok(post_stripe(webhook, stripe_body(sample)))
        assert set(answer) == set(schema["properties"]) and set(schema.get("required", ())) <= set(answer)
        assert ProviderWebhookResponse.model_validate(answer).model_dump(mode="json") == answer


# -- concurrency and failures --------------------------------------------------------------------------
def test_fifty_concurrent_deliveries_of_one_event_have_one_effect(webhook):
    from tests.support.jobs import invoke_concurrently

    event = signed(stripe_body("invoice.paid"))
    responses = invoke_concurrently(webhook, STRIPE, [event] * 50)
    codes = {r["statusCode"] for r in responses}
    assert codes <= {200, 409} and 200 in codes, codes
    assert all(json_body(r)["error"]["code"] == "in_progress" for r in responses if r["statusCode"] == 409)
    assert job(webhook, "J-2001")["statuses"] == ["completed", "paid"]


def test_concurrent_events_of_one_job_make_one_state(webhook):
    from tests.support.jobs import invoke_concurrently

    events = [signed(stripe_body(sample, id=f"evt_{sample}_{n}"))
              for n in range(12) for sample in ("invoice.paid", "charge.dispute.created")]
    responses = invoke_concurrently(webhook, STRIPE, events)
    assert [json_body(r) for r in responses if r["statusCode"] != 200] == []
    assert job(webhook, "J-2001")["statuses"] == ["completed", "disputed", "paid"]


def test_a_failure_while_recording_is_503_and_stripes_retry_records_it_once(webhook, monkeypatch):
    from referral_core.errors import Unavailable
    from referral_core.services.providers import ingest

    real = ingest.record_job_event
    calls = []

    def busy_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Unavailable("the table is busy", retry_after=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "record_job_event", busy_once)
    first = post_stripe(webhook, stripe_body("invoice.paid"))
    assert first["statusCode"] == 503, first["body"]
    assert ok(post_stripe(webhook, stripe_body("invoice.paid")))["applied"] is True
    assert job(webhook, "J-2001")["version"] == 2  # paid and completed, each once


def test_a_replay_is_answered_when_the_store_must_read_the_first_record_back(webhook, monkeypatch):
    # DynamoDB returns the existing record with a failed condition (ALL_OLD); without it, Powertools
    # reads it back (GetItem): the answer is the same
    first = ok(post_stripe(webhook, stripe_body("invoice.paid")))
    monkeypatch.setattr(webhook.function(STRIPE).ingest().once.store, "return_value_on_condition", {})
    assert ok(post_stripe(webhook, stripe_body("invoice.paid"))) == first
