"""Every email goes through the stack's SES configuration set, where SES suppresses addresses that bounced or
complained (template: MailConfigurationSet), so one bad address cannot keep hurting the sender's reputation."""

from __future__ import annotations

from typing import Any

import pytest

from referral_core.dal.aws import client
from tests.support.aws import template
from tests.support.portal import ask_magic_link, create_referrer

pytestmark = pytest.mark.integration


def test_the_configuration_set_suppresses_bounces_and_complaints():
    props = template().raw["Resources"]["MailConfigurationSet"]["Properties"]
    assert sorted(props["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]
    senders = [name for name, fn in template().functions.items() if "SENDER_EMAIL" in fn.env]
    assert senders
    assert all("SES_CONFIGURATION_SET" in template().functions[name].env for name in senders)


def test_a_sign_in_email_is_sent_through_the_configuration_set(portal_stack):
    create_referrer(portal_stack, email="jo@example.com")
    sent: list[dict[str, Any]] = []
    ses = client("ses")
    ses.meta.events.register("provide-client-params.ses.SendEmail", lambda params, **_: sent.append(params))

    ask_magic_link(portal_stack, "jo@example.com")

    expected = template().functions["ReferrerPortalFunction"].env["SES_CONFIGURATION_SET"]
    assert [p["ConfigurationSetName"] for p in sent] == [expected]
