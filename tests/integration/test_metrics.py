"""Business and health metrics leave as CloudWatch EMF lines (Powertools Metrics) in the stack's namespace,
one per invocation that counted something (docs/operations.md lists them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.aws import STREAM_READER, WEBHOOK_SECRET, template
from tests.support.events import stream_event, stream_record
from tests.support.jobs import WEBHOOK, configure_webhook_secrets, job_body, lead_item, signed_event

pytestmark = pytest.mark.integration


def emitted(out: str) -> dict[str, float]:
    """Metric name -> value summed over the EMF lines in ``out``; checks each line's namespace."""
    totals: dict[str, float] = {}
    namespace = template().functions[WEBHOOK].env["POWERTOOLS_METRICS_NAMESPACE"]
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        doc: dict[str, Any] = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == namespace
            for metric in directive["Metrics"]:
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(doc[metric["Name"]])
    return totals


def test_the_namespace_is_the_stack_name_for_every_function():
    namespaces = {fn.env.get("POWERTOOLS_METRICS_NAMESPACE") for fn in template().functions.values()}
    assert namespaces == {"referral-local"}  # the local stack's name; AWS::StackName when deployed


def test_webhook_deliveries_and_rejections_are_counted(stack, capsys):
    configure_webhook_secrets(stack, WEBHOOK_SECRET)
    capsys.readouterr()

    assert stack.invoke(WEBHOOK, signed_event(job_body("job.created")))["statusCode"] == 200
    assert stack.invoke(WEBHOOK, signed_event(job_body("job.paid"), secret="whsec_" + "A" * 32))["statusCode"] == 401

    assert emitted(capsys.readouterr().out) == {"JobEventsReceived": 1, "WebhookRejected": 1}


def test_the_stream_reader_counts_leads_and_flags(stack, capsys):
    capsys.readouterr()
    lead = lead_item(referred_by="my neighbour")

    assert stack.invoke(STREAM_READER, stream_event(stream_record("INSERT", new=lead))) == {"batchItemFailures": []}

    totals = emitted(capsys.readouterr().out)
    assert totals["LeadsReceived"] == 1
    assert totals["FlagsRaised"] >= 1  # an unclear "who referred you?" claim is flagged for staff


def test_nothing_is_published_when_nothing_was_counted(stack, capsys):
    capsys.readouterr()

    stack.invoke(STREAM_READER, stream_event(stream_record("INSERT", new={"pk": "X", "sk": "Y", "type": "rate"})))

    assert emitted(capsys.readouterr().out) == {}
