"""Staff routes for outbound webhooks: subscriptions (admin), their signing secrets, deliveries and replays.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from staff_context import current_actor, settings

from referral_core import deps
from referral_core.dal.webhooks import DeliveryQueue, WebhookRepository, WebhookSecrets
from referral_core.http import json_answer, json_response
from referral_core.models.webhooks import (
    CreatedWebhook,
    CreateWebhookRequest,
    Delivery,
    DeliveryPage,
    DeliveryStatus,
    RotatedSecret,
    WebhookList,
    WebhookSubscription,
)
from referral_core.services import outbound_webhooks as webhooks

router = APIGatewayHttpRouter()


def _repo() -> WebhookRepository:
    return WebhookRepository(deps.table())


def _secrets() -> WebhookSecrets:
    return WebhookSecrets(settings().webhook_secret_prefix)


@router.get("/admin/webhooks", responses={200: json_answer(WebhookList, "Every subscription, with no secret")})
def get_webhooks() -> Response[str]:
    return json_response(200, webhooks.list_subscriptions(_repo()).model_dump(mode="json"))


@router.post("/admin/webhooks", responses={
    201: json_answer(CreatedWebhook, "Subscribed; the signing secret is in this answer only"),
    422: {"description": "The url is not a public https:// address, or an event is unknown"}})
def post_webhook(body: CreateWebhookRequest) -> Response[str]:
    created = webhooks.create_subscription(_repo(), _secrets(), body, actor=current_actor(router),
                                           allow_private=settings().webhook_allow_private_targets)
    return json_response(201, created.model_dump(mode="json"))


@router.delete("/admin/webhooks/<webhook_id>", responses={
    200: json_answer(WebhookSubscription, "Disabled: nothing more is sent; its deliveries stay listed"),
    404: {"description": "No such subscription"}})
def delete_webhook(webhook_id: str) -> Response[str]:
    disabled = webhooks.disable_subscription(_repo(), webhook_id, actor=current_actor(router))
    return json_response(200, disabled.model_dump(mode="json"))


@router.post("/admin/webhooks/<webhook_id>/rotate", responses={
    200: json_answer(RotatedSecret, "A new signing secret (in this answer only); the old one keeps signing "
                                    "too until previous_secret_expires_at"),
    404: {"description": "No such subscription"}})
def post_rotate(webhook_id: str) -> Response[str]:
    rotated = webhooks.rotate_secret(_repo(), _secrets(), webhook_id, actor=current_actor(router))
    return json_response(200, rotated.model_dump(mode="json"))


@router.get("/admin/webhooks/<webhook_id>/deliveries", responses={
    200: json_answer(DeliveryPage, "Deliveries, newest first (failed: every attempt failed)"),
    404: {"description": "No such subscription"}})
def get_deliveries(webhook_id: str, status: Annotated[DeliveryStatus | None, Query()] = None,
                   cursor: Annotated[str | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 50) -> Response[str]:
    page = webhooks.list_deliveries(_repo(), webhook_id, status=status, cursor=cursor, limit=limit)
    return json_response(200, page.model_dump(mode="json"))


@router.post("/admin/webhooks/<webhook_id>/deliveries/<delivery_id>/replay", responses={
    202: json_answer(Delivery, "Queued again from its first attempt, with the same webhook-id"),
    404: {"description": "No such subscription or delivery"},
    409: {"description": "The delivery is still being attempted"}})
def post_replay(webhook_id: str, delivery_id: str) -> Response[str]:
    replayed = webhooks.replay_delivery(_repo(), DeliveryQueue(settings().webhook_queue_url), webhook_id,
                                        delivery_id, actor=current_actor(router))
    return json_response(202, replayed.model_dump(mode="json"))
