"""The OpenAPI parts of the routes that no Powertools resolver serves (the raw handlers: the redirect,
Quick Help, the job system's webhooks, the staff console's files), in one place beside the generator.

``scripts/openapi.py`` looks a function up here by its code folder (``functions/<name>/``). The handler
modules keep wiring only, and no cold start builds a JSON schema: generating one builds the model's
validator and schema, which the document needs and a request does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from referral_core.bodies import FORM
from referral_core.models.jobs import JobWebhookEvent, JobWebhookResponse, ProviderWebhookResponse
from referral_core.models.leads import FORM_FIELDS, LeadCreated, LeadRequest
from referral_core.models.square import SquareEvent
from referral_core.models.xero import XeroWebhook

ERROR_REF: dict[str, str] = {"$ref": "#/components/schemas/ErrorResponse"}
HTML_CONTENT: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}


def inline_schema(model: type[BaseModel], mode: Literal["validation", "serialization"] = "validation",
                  ) -> dict[str, Any]:
    """``model``'s JSON schema with its nested models inlined (the document has no ``$defs`` of its own)."""
    schema = model.model_json_schema(mode=mode)
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                return resolve(defs[ref.rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return dict(resolve(schema))


def error_doc(description: str) -> dict[str, Any]:
    """A documented error answer (the shared ``ErrorResponse`` body)."""
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


_FORM_FIELDS_SCHEMA = {
    "type": "object",
    "required": ["name", "postcode", "issue", "consent_contact", "policy_version"],
    "properties": {**{name: {"type": "string"} for name in FORM_FIELDS},
                   "consent_contact": {"type": "string", "enum": ["on"]},
                   "policy_version": {"type": "string"}},
}


def link_redirect() -> dict[str, Any]:
    """``functions/link_redirect/``."""
    return {"/r/{code}": {
        "get": {
            "summary": "Follow a referral link",
            "description": "302 to the landing page with `ref` and `cid`; counts one click per visitor per "
                           "hour (not for HEAD, bots or link previews). `src=qr&p=placement` marks a QR scan.",
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "src", "in": "query", "required": False, "schema": {"type": "string", "enum": ["qr"]}},
                {"name": "p", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {"302": {"description": "Redirect to the landing page"},
                          "404": {"description": "Unknown, disabled, expired or used-up code (HTML page)",
                                  "content": {"text/html": {"schema": {"type": "string"}}}}},
        },
    }}


def capture_lead() -> dict[str, Any]:
    """``functions/capture_lead/``."""
    return {
        "/quick-help": {"get": {
            "summary": "Quick Help form",
            "description": "HTML form (no JavaScript needed) with the policy and a consent checkbox; `ref` "
                           "and `cid` from the referral redirect are carried in hidden fields.",
            "parameters": [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                           for name in ("ref", "cid")],
            "responses": {"200": {"description": "The form", "content": HTML_CONTENT}},
        }},
        "/leads": {"post": {
            "summary": "Send a Quick Help request",
            "description": "JSON, or the form post of /quick-help. At most 16 KB. An unknown or inactive "
                           "`ref` still saves the lead, unattributed. `Idempotency-Key` makes retries safe.",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": inline_schema(LeadRequest)},
                FORM: {"schema": _FORM_FIELDS_SCHEMA}}},
            "responses": {
                "201": {"description": "Received (JSON for JSON posts, a thank-you page for form posts)",
                        "content": {"application/json": {"schema": inline_schema(LeadCreated)}, **HTML_CONTENT}},
                # A form post with a problem gets the form back (HTML), a JSON post the error JSON.
                **{status: {"description": text,
                            "content": {"application/json": {"schema": ERROR_REF}, **HTML_CONTENT}}
                   for status, text in (("400", "Malformed body"),
                                        ("409", "The same Idempotency-Key is still in progress (Retry-After)"),
                                        ("413", "Body too large"), ("415", "Not JSON or a form"),
                                        ("422", "A field is not valid"),
                                        ("429", "Too many requests (Retry-After)"),
                                        ("503", "A dependency is busy or slow; retry after Retry-After "
                                                "seconds"))},
            },
        }},
        "/branding/logo": {"get": {
            "summary": "The business's logo",
            "description": "Set by staff (`PUT /admin/branding`): PNG, JPEG or SVG; the default image without "
                           "one. Used by Quick Help and its link previews (Open Graph, Twitter cards).",
            "responses": {"200": {"description": "The image", "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/png", "image/jpeg", "image/svg+xml")}}},
        }},
        "/policy": {"get": {
            "summary": "Current policy wording and version",
            "description": "JSON by default; an HTML page when the client prefers text/html.",
            "responses": {"200": {"description": "The policy", "content": {
                "application/json": {"schema": {"type": "object", "required": ["version", "text"],
                                                "properties": {
                    "version": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string"},
                    "paragraphs": {"type": "array", "items": {"type": "string"}}}}},
                **HTML_CONTENT}}},
        }},
    }


def job_webhook() -> dict[str, Any]:
    """``functions/job_webhook/``."""
    return {"/webhooks/jobs": {"post": {
        "summary": "Job event from the job system (Standard Webhooks)",
        "description": "Signed with `webhook-signature: v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>` "
                       "(space-separated list while rotating); timestamp within 300 s. Once per "
                       "`webhook-id`: a redelivery gets the first answer. See docs/jobs.md.",
        "parameters": [{"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                       for name in ("webhook-id", "webhook-timestamp", "webhook-signature")],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": inline_schema(JobWebhookEvent)}}},
        "responses": {
            "200": {"description": "Recorded (`applied: false`: this job already had this event type)",
                    "content": {"application/json": {
                        "schema": inline_schema(JobWebhookResponse, mode="serialization")}}},
            "400": error_doc("The body is not JSON"),
            "401": error_doc("Missing or bad signature, or timestamp more than 300 s off"),
            "409": error_doc("Same webhook-id with a different body (`conflict`) or still in progress "
                             "(`in_progress`, Retry-After)"),
            "422": error_doc("Unknown event type or an invalid field (named in error.fields)"),
            "503": error_doc("A dependency is busy or slow; retry after Retry-After seconds"),
        },
    }}}


#: What the Stripe adapter reads of an event (Stripe's own schema: https://docs.stripe.com/api/events/object).
_STRIPE_EVENT_SCHEMA = {
    "type": "object", "required": ["id", "type", "data"],
    "properties": {"id": {"type": "string", "maxLength": 255, "examples": ["evt_1MtHbFLkdIwHu7ixGtb1nWfE"]},
                   "type": {"type": "string", "maxLength": 255, "examples": ["invoice.paid"]},
                   "created": {"type": "integer", "minimum": 0, "maximum": 9_999_999_999,
                               "description": "unix seconds: the job event's occurred_at"},
                   "data": {"type": "object", "required": ["object"],
                            "properties": {"object": {"type": "object", "description":
                                                      "the invoice, checkout.session, charge or dispute"}}}},
}


def stripe_webhook() -> dict[str, Any]:
    """``functions/stripe_webhook/``."""
    return {"/webhooks/stripe": {"post": {
        "summary": "Stripe's events (invoice.paid, checkout.session.completed, charge.refunded, …)",
        "description": "Signed by Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of {t}.{body}>` "
                       "(several v1 while a secret is rolled); timestamp within 300 s. Once per Stripe "
                       "event id: a redelivery gets the first answer. See docs/integrations/stripe.md.",
        "parameters": [{"name": "Stripe-Signature", "in": "header", "required": True,
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _STRIPE_EVENT_SCHEMA}}},
        "responses": {
            "200": {"description": "Recorded as a job event, or ignored (`ignored: true`: says nothing about a job)",
                    "content": {"application/json": {
                        "schema": inline_schema(ProviderWebhookResponse, mode="serialization")}}},
            "400": error_doc("The body is not JSON, or not a Stripe event"),
            "401": error_doc("Missing or bad Stripe-Signature, or timestamp more than 300 s old"),
            "409": error_doc("This event id is still being processed (`in_progress`, Retry-After)"),
            "422": error_doc("A field the job event refuses (named in error.fields)"),
            "503": error_doc("A dependency is busy or slow; retry after Retry-After seconds"),
        },
    }}}


def square_webhook() -> dict[str, Any]:
    """``functions/square_webhook/``."""
    return {"/webhooks/square": {"post": {
        "summary": "Square event notification (invoice paid, refunds) as a job event",
        "description": "Signed by Square: `x-square-hmacsha256-signature` = base64 HMAC-SHA256 of the notification "
                       "URL + the raw body with the subscription's signature key. `invoice.payment_made` (invoice "
                       "PAID) -> job.paid, `refund.created`/`refund.updated` (COMPLETED) -> job.refunded, on the "
                       "job of the Square order id; anything else is answered 200 and ignored. Once per "
                       "`event_id`. See docs/integrations/square.md.",
        "parameters": [{"name": "x-square-hmacsha256-signature", "in": "header", "required": True,
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(SquareEvent)}}},
        "responses": {
            "200": {"description": "Recorded, a replay (the first answer again), or ignored (`ignored: true`)",
                    "content": {"application/json": {
                        "schema": inline_schema(ProviderWebhookResponse, mode="serialization")}}},
            "400": error_doc("The body is not JSON"),
            "401": error_doc("Missing or bad signature"),
            "409": error_doc("The first delivery of this event_id is still being processed (`in_progress`, "
                             "Retry-After)"),
            "422": error_doc("An invalid field (named in error.fields)"),
            "503": error_doc("A dependency is busy or slow; retry after Retry-After seconds"),
        },
    }}}


def xero_webhook() -> dict[str, Any]:
    """``functions/xero_webhook/``."""
    return {"/webhooks/xero": {"post": {
        "summary": "Xero webhook (invoices, credit notes) fetched and recorded as job events",
        "description": "Signed by Xero: `x-xero-signature` = base64 HMAC-SHA256 of the raw body with the webhook key. "
                       "A delivery without events is the intent-to-receive check. Each INVOICE event is fetched "
                       "(status PAID -> job.paid), each CREDITNOTE allocated to an invoice is job.refunded; other "
                       "events are ignored. See docs/integrations/xero.md.",
        "parameters": [{"name": "x-xero-signature", "in": "header", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(XeroWebhook)}}},
        "responses": {
            "200": {"description": "Received, with an empty body (the intent-to-receive check included)"},
            "400": error_doc("The body is not JSON"),
            "401": {"description": "Missing or bad signature (the intent-to-receive check's wrong signature "
                           "included), without a body as Xero requires"},
            "422": error_doc("An invalid field (named in error.fields)"),
            "503": error_doc("Xero's API did not answer in time: Xero delivers the events again"),
        },
    }}}


def staff_page() -> dict[str, Any]:
    """``functions/staff_page/``."""
    return {
        "/admin": {"get": {
            "summary": "GET /admin", "operationId": "get_staff_page",
            "description": "The staff console (static HTML, no token needed: staff sign in from the page).",
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": {"type": "string"}}}}},
        }},
        "/admin/assets/{name}": {"get": {
            "summary": "GET /admin/assets/{name}", "operationId": "get_staff_asset",
            "description": "The console's stylesheet, ES modules and `config.json` (Cognito endpoint, client id, "
                           "idle time-out, currency). `ETag` + `Cache-Control: no-cache`: a repeat visit gets 304.",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The file"}, "304": {"description": "Not modified (If-None-Match)"},
                          "404": {"description": "No such file"}},
        }},
    }


#: Each raw handler's routes, by the function's code folder.
PATHS: dict[str, Callable[[], dict[str, Any]]] = {
    "link_redirect": link_redirect,
    "capture_lead": capture_lead,
    "job_webhook": job_webhook,
    "stripe_webhook": stripe_webhook,
    "square_webhook": square_webhook,
    "xero_webhook": xero_webhook,
    "staff_page": staff_page,
}
