"""Pure rules of the job webhook and attribution: signatures, job state, decisions, programme defaults."""

from __future__ import annotations

import argparse
import base64
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from referral_core.errors import ConfigError, Unauthorized
from referral_core.models.jobs import JobWebhookEvent
from referral_core.models.program import Attribution, default_rules
from referral_core.services.attribution import Outcome, PriorReferral, decide, stage_for_job
from referral_core.services.jobs import derive_job
from referral_core.services.program_defaults import attribution_rules, program_rules
from referral_core.services.webhook_signature import verify
from referral_core.stages import Stage
from scripts import send_job_event

pytestmark = pytest.mark.unit

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
NOW = 1_795_424_400


def headers(secret=SECRET, webhook_id="msg_1", at=NOW, body="{}"):
    moment = datetime.fromtimestamp(at, UTC)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(at),
            "webhook-signature": Webhook(secret).sign(webhook_id, moment, body)}


# -- signature -------------------------------------------------------------------------------------
def test_signature_of_the_reference_implementation_verifies():
    delivery = verify(headers(), b"{}", now=NOW, secrets=[SECRET])
    assert (delivery.webhook_id, delivery.timestamp) == ("msg_1", NOW)


def test_any_of_several_secrets_and_signatures_is_enough():
    mixed = {**headers(), "webhook-signature": f"{headers(OTHER)['webhook-signature']} "
                                               f"{headers()['webhook-signature']}"}
    assert verify(mixed, b"{}", now=NOW, secrets=[OTHER]).webhook_id == "msg_1"
    assert verify(headers(), b"{}", now=NOW, secrets=[OTHER, SECRET]).webhook_id == "msg_1"


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamp_outside_tolerance_is_refused(skew):
    with pytest.raises(Unauthorized):
        verify(headers(at=NOW + skew), b"{}", now=NOW, secrets=[SECRET])


def test_refresh_is_asked_only_when_nothing_matches():
    asked = []

    def refreshed():
        asked.append(True)
        return [SECRET]

    verify(headers(), b"{}", now=NOW, secrets=[SECRET], refreshed=refreshed)
    assert asked == []
    verify(headers(), b"{}", now=NOW, secrets=[OTHER], refreshed=refreshed)
    assert asked == [True]


def test_tampered_body_is_refused():
    with pytest.raises(Unauthorized):
        verify(headers(body="{}"), b'{"x":1}', now=NOW, secrets=[SECRET])


def test_malformed_secret_is_a_config_error():
    with pytest.raises(ConfigError):
        verify(headers(), b"{}", now=NOW, secrets=["whsec_not base64!"])


# -- job state ---------------------------------------------------------------------------------------
def event(kind, at, **extra):
    return {"event_type": kind, "occurred_at": at, "currency": "AUD", **extra}


def test_job_state_does_not_depend_on_arrival_order():
    events = [event("job.created", "2026-11-20T09:00:00Z", amount_cents=40000, lead_id="L1"),
              event("job.completed", "2026-11-21T15:00:00Z"),
              event("job.paid", "2026-11-22T10:00:00Z", amount_cents=48000),
              event("job.invoiced", "2026-11-21T16:00:00Z", amount_cents=47000, lead_id="L2")]
    forward, backward = derive_job("J", events), derive_job("J", list(reversed(events)))
    assert forward == backward
    assert forward["statuses"] == ["completed", "created", "invoiced", "paid"]
    assert forward["amount_cents"] == 48000
    assert forward["lead_id"] == "L1"
    assert forward["paid_at"] == "2026-11-22T10:00:00Z"


def test_refund_without_amount_refunds_the_job_amount():
    state = derive_job("J", [event("job.paid", "2026-11-22T10:00:00Z", amount_cents=48000),
                             event("job.refunded", "2026-11-25T10:00:00Z")])
    assert state["refunded_cents"] == 48000
    assert "refunded_at" in state


@pytest.mark.parametrize(
    ("statuses", "stage"),
    [(["created"], Stage.JOB_BOOKED), (["quoted"], Stage.JOB_BOOKED), (["paid"], Stage.JOB_BOOKED),
     (["completed"], Stage.JOB_COMPLETED), (["paid", "completed"], Stage.CUSTOMER_PAID),
     (["cancelled"], None), (["refunded"], None)],
)
def test_stage_for_job(statuses, stage):
    assert stage_for_job(statuses) == stage


# -- attribution decisions -----------------------------------------------------------------------------
AT = "2026-11-23T09:00:00.000000Z"
DEFAULT = Attribution()  # what GET /admin/program shows before any save: last touch
FIRST = Attribution(model="first_touch")


def lead(**fields):
    return {"lead_id": "L1", "source": "quick_help", "created_at": AT, **fields}


CODE = {"ref": "K7QX3MZ", "ref_status": "attributed", "referrer_id": "R1"}


def click(referrer="R2", at="2026-11-20T09:00:00.000000Z"):
    return {"code": "QRPARK2", "referrer_id": referrer, "clicked_at": at}


PRIOR = PriorReferral("L0", "referral_form", "R3", None, "2026-11-01T09:00:00.000000Z")


@pytest.mark.parametrize(
    ("fields", "kwargs", "rules", "outcome", "referrer", "reason"),
    [
        pytest.param(CODE, {}, DEFAULT, Outcome.ATTRIBUTED, "R1", "valid code", id="code"),
        pytest.param({"cid": "c"}, {"click": click()}, DEFAULT, Outcome.ATTRIBUTED, "R2", "click within window",
                     id="click"),
        pytest.param({"cid": "c"}, {"click": click(at="2026-08-01T09:00:00.000000Z")}, DEFAULT, Outcome.NONE,
                     None, "no_source", id="click-expired"),
        pytest.param({"cid": "c"}, {}, DEFAULT, Outcome.NONE, None, "no_source", id="click-unknown"),
        pytest.param({**CODE, "cid": "c"}, {"click": click()}, DEFAULT, Outcome.REVIEW, "R2",
                     "conflicting_sources", id="code-vs-click"),
        pytest.param({**CODE, "cid": "c"}, {"click": click("R1")}, DEFAULT, Outcome.ATTRIBUTED, "R1",
                     "click within window", id="code-and-click-agree"),
        pytest.param({"source": "refer_a_job", "referrer_id": "R3"}, {}, DEFAULT, Outcome.ATTRIBUTED, "R3",
                     "referrer submitted the job", id="refer-a-job"),
        pytest.param({}, {"prior": PRIOR}, DEFAULT, Outcome.ATTRIBUTED, "R3", "earlier_referral",
                     id="direct-lead-after-refer-a-job"),
        pytest.param(CODE, {"prior": PRIOR}, FIRST, Outcome.ATTRIBUTED, "R3", "earlier_referral",
                     id="first-touch-keeps-earlier"),
        pytest.param(CODE, {"prior": PRIOR}, DEFAULT, Outcome.ATTRIBUTED, "R1", "valid code",
                     id="last-touch-takes-the-new-code"),
        pytest.param({"referred_by": "Jo"}, {}, DEFAULT, Outcome.REVIEW, None, "claim_only", id="claim-only"),
        pytest.param({**CODE, "referred_by": "Jo"}, {}, DEFAULT, Outcome.ATTRIBUTED, "R1", "valid code",
                     id="claim-never-beats-code"),
        pytest.param({**CODE, "ref_via": "referred_by", "referred_by": " k7qx3mz "}, {}, DEFAULT,
                     Outcome.ATTRIBUTED, "R1", "code typed in who referred you", id="typed-code"),
        pytest.param({"ref": "NOPE", "ref_status": "unknown"}, {}, DEFAULT, Outcome.NONE, None, "no_source",
                     id="unknown-code"),
        pytest.param(CODE, {"existing_customer": True}, DEFAULT, Outcome.NOT_ELIGIBLE, "R1", "existing_customer",
                     id="existing-customer"),
        pytest.param({}, {}, DEFAULT, Outcome.NONE, None, "no_source", id="direct"),
    ],
)
def test_decide(fields, kwargs, rules, outcome, referrer, reason):
    decision = decide(lead(**fields), rules=rules, **kwargs)
    assert (decision.outcome, decision.referrer_id, decision.reason) == (outcome, referrer, reason)


def test_last_touch_lets_a_later_source_win():
    decision = decide(lead(**CODE), rules=DEFAULT, prior=PRIOR)
    assert (decision.referrer_id, decision.source) == ("R1", "code")
    assert decision.evidence[-1].reason == "last_touch: a later source wins"


def test_precedence_from_the_programme_decides_the_winner():
    rules = Attribution(precedence=("code", "link", "referral_form", "referred_by"))
    decision = decide(lead(**CODE, cid="c"), rules=rules, click=click("R1"))
    assert (decision.source, decision.code) == ("code", "K7QX3MZ")
    assert decide(lead(**CODE, cid="c"), rules=DEFAULT, click=click("R1")).source == "link"


def test_sources_left_out_of_the_precedence_rank_after_the_listed_ones():
    assert Attribution(precedence=("code",)).ranking() == ("code", "referral_form", "link", "referred_by")
    decision = decide(lead(**CODE, cid="c"), rules=Attribution(precedence=("code",)), click=click("R1"))
    assert decision.source == "code"


@pytest.mark.parametrize(("claim", "kept"), [
    ("my neighbour Jo from 12 Park St", "free_text"),
    ("Jo, code k7qx3mz", "K7QX3MZ"),  # names the lead's code
    ("Jo QRPARK2", "QRPARK2"),  # names the click's code
])
def test_evidence_never_holds_the_claims_text(claim, kept):
    decision = decide(lead(**CODE, cid="c", referred_by=claim), rules=DEFAULT, click=click("R1"))
    (item,) = [e for e in decision.evidence if e.source == "referred_by"]
    assert (item.value, item.accepted, item.referrer_id) == (kept, False, None)
    assert not any("Jo" in e.value or "Park" in e.value for e in decision.evidence)


def test_a_typed_code_is_code_evidence_and_no_claim():
    decision = decide(lead(**CODE, ref_via="referred_by", referred_by="k7qx3mz"), rules=DEFAULT)
    assert [(e.source, e.value, e.accepted) for e in decision.evidence] == [("code", "K7QX3MZ", True)]
    assert (decision.source, decision.code) == ("code", "K7QX3MZ")


# -- programme rules as stored -------------------------------------------------------------------------
def saved(attribution=None, **rules):
    """A PROGRAM/CURRENT item as PUT /admin/program writes it."""
    body = default_rules().model_dump(mode="json") | rules
    if attribution is not None:
        body["attribution"] = attribution
    return {"rules": body, "version": 3}


def test_one_default_before_anything_is_saved():
    assert attribution_rules(None) == attribution_rules({"rules": {}}) == DEFAULT
    assert DEFAULT.precedence == ("referral_form", "link", "code", "referred_by")
    assert (DEFAULT.model, DEFAULT.window_days, DEFAULT.missing_job_days) == ("last_touch", 90, 30)
    assert default_rules().attribution == DEFAULT


def test_the_saved_rules_attribution_is_what_applies():
    rules = attribution_rules(saved({"model": "first_touch", "window_days": 14, "precedence": ["code"]}))
    assert (rules.model, rules.window_days, rules.precedence) == ("first_touch", 14, ("code",))


def test_the_old_top_level_shape_is_read_with_the_old_names():
    legacy = {"attribution": {"model": "first_touch", "window_days": 200, "missing_job_days": 10,
                              "precedence": ["claim", "click", "code", "refer_a_job"]}}
    rules = attribution_rules(legacy)
    assert rules == Attribution(model="first_touch", window_days=200, missing_job_days=10,
                                precedence=("referred_by", "link", "code", "referral_form"))
    assert program_rules(legacy).tiers == default_rules().tiers
    # the rules staff saved through the API win over a stale top-level key
    assert attribution_rules({**saved({"model": "last_touch"}), **legacy}).model == "last_touch"
    # a saved programme from before issue 16 without rules.attribution falls back to the top-level key
    without = saved()
    del without["rules"]["attribution"]
    assert attribution_rules({**without, **legacy}).window_days == 200


def test_a_precedence_with_a_source_twice_loads_with_its_first_place():
    assert attribution_rules(saved({"precedence": ["code", "link", "code"]})).precedence == ("code", "link")
    with pytest.raises(ValidationError):
        Attribution.model_validate({"precedence": ["code", "code"]})  # but a save is refused


@pytest.mark.parametrize(
    "attribution",
    [{"model": "linear"}, {"precedence": ["coupon"]}, {"window_days": 0}, {"missing_job_days": 0},
     {"weights": [1]}],
)
def test_impossible_stored_rules_are_a_config_error(attribution):
    with pytest.raises(ConfigError):
        attribution_rules({"attribution": attribution})
    with pytest.raises(ConfigError):
        attribution_rules(saved(attribution))


# -- the sample client script ----------------------------------------------------------------------
def test_sample_client_signs_like_the_reference_implementation():
    body = b'{"type":"job.paid"}'
    reference = Webhook(SECRET).sign("msg_9", datetime.fromtimestamp(NOW, UTC), body.decode())
    assert send_job_event.sign(SECRET, "msg_9", NOW, body) == reference


def test_sample_client_body_is_a_valid_event():
    args = argparse.Namespace(type="job.paid", job_id="J-1", lead_id=None, email="a@example.com", phone=None,
                              postcode="3000", amount_cents=100, currency="AUD", occurred_at=None)
    parsed = JobWebhookEvent.model_validate(send_job_event.build_body(args))
    assert (parsed.data.job_id, parsed.data.amount_cents) == ("J-1", 100)
    assert parsed.data.customer.email == "a@example.com"
