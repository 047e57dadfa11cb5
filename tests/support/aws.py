"""An in-process AWS (moto) with the template's resources, and its functions loaded as Lambda would.

Tables are created from template.yaml's own properties (``local.template.create_table_kwargs``), and each
function gets exactly the environment the template gives it, so tests cannot drift from the template.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from local._worker import LambdaContext
from local.template import Function, Template, create_table_kwargs, load_template
from tests.support import iam_usage
from tests.support.response_models import check_answer

REGION = "us-east-1"
PEPPER = "test-pepper"
#: The function that reads the table's stream and runs every consumer (functions/dispatch_changes).
STREAM_READER = "DispatchChangesFunction"
WEBHOOK_SECRET = "whsec_" + "dGVzdC1zZWNyZXQtMzItYnl0ZXMtbG9uZy0wMTIzNDU2Nzg="
BASE_ENV = {
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "referral-local", "POWERTOOLS_DEV": "false",
}


@cache
def template() -> Template:
    return load_template()


@dataclass
class Stack:
    """Handles on the moto resources a test may look at. ``invoke`` also checks every answer of a route that
    documents its JSON model against that model (tests/support/response_models.py)."""

    table_name: str
    dynamodb: Any
    monkeypatch: pytest.MonkeyPatch
    env: dict[str, str]
    _modules: dict[str, ModuleType] = field(default_factory=dict)
    #: ``"METHOD /path status"`` of the answers checked against their route's declared model.
    checked_answers: set[str] = field(default_factory=set)

    def items(self) -> list[dict[str, Any]]:
        """Every item (tests only: a Scan is fine here, never in app code)."""
        from referral_core.dal.dynamo import deserialize

        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        while True:
            page = self.dynamodb.scan(**kwargs)
            out.extend(deserialize(i) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def items_of_type(self, kind: str) -> list[dict[str, Any]]:
        return [i for i in self.items() if i.get("type") == kind]

    def sent_emails(self) -> list[dict[str, Any]]:
        from moto.backends import get_backend

        backend = get_backend("ses")["123456789012"][REGION]
        return [{"to": m.destinations["ToAddresses"], "subject": m.subject, "body": m.body,
                 "source": m.source} for m in backend.sent_messages]

    def function(self, logical_id: str) -> ModuleType:
        """Import the function's handler module with the template's environment (cold start once)."""
        if logical_id in self._modules:
            return self._modules[logical_id]
        fn = template().functions[logical_id]
        for key, value in fn.env.items():
            if key not in BASE_ENV and key not in self.env:
                self.monkeypatch.setenv(key, value)
        name = f"_fn_{logical_id}_{uuid.uuid4().hex[:6]}"
        spec = importlib.util.spec_from_file_location(name, fn.code_uri / f"{fn.module}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        _forget_modules_in(fn.code_uri)  # a cold start imports the sibling modules (routers) afresh
        # Lambda puts the function's code folder on the path: sibling modules (routers) import by name.
        self.monkeypatch.syspath_prepend(str(fn.code_uri))
        spec.loader.exec_module(module)
        self._modules[logical_id] = module
        return module

    def consume(self, consumer: str, event: dict[str, Any]) -> Any:
        """One stream consumer alone on a stream event (a route of the stream's reader, as its own mapping)."""
        routes = self.function(STREAM_READER).handler.dispatcher.by_name
        with iam_usage.running(STREAM_READER):  # its calls are the reader's: one role for every consumer
            return routes[consumer].handler(event)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        fn = template().functions[logical_id]
        module = self.function(logical_id)
        handler: Callable[[dict[str, Any], Any], Any] = getattr(module, fn.func_name)
        with iam_usage.running(logical_id):
            response = handler(event, lambda_context(fn))
        app = getattr(module, "app", None)
        if app is not None and hasattr(app, "_static_routes"):  # a Powertools resolver: check the answer
            checked = check_answer(app, event, response)
            if checked:
                self.checked_answers.add(checked)
        return response


def lambda_context(fn: Function) -> LambdaContext:
    """The context of an invocation of ``fn`` starting now, with its name, memory and timeout."""
    return LambdaContext.of(fn.name, memory_limit_in_mb=fn.memory_mb, timeout_s=fn.timeout_s)


def _queues(tpl: Template) -> dict[str, str]:
    """Create the template's queues; returns the function variables that name one, with its real URL."""
    sqs = boto3.client("sqs", region_name=REGION)
    urls: dict[str, str] = {}
    for logical_id in tpl.logical_ids("AWS::SQS::Queue"):
        props = tpl.properties(logical_id)
        attributes = {k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
                      for k in ("FifoQueue", "VisibilityTimeout") if k in props}
        urls[tpl.ref(logical_id)] = sqs.create_queue(QueueName=tpl.physical_name(logical_id),
                                                     Attributes=attributes)["QueueUrl"]
    return {key: urls[value] for fn in tpl.functions.values() for key, value in fn.env.items() if value in urls}


def _kms_keys(tpl: Template) -> dict[str, str]:
    """Create the template's KMS keys (with their key policies); returns the function variables that name one,
    with the real key's ARN. Calls on it are judged as calls on the template's key (``iam_usage.stands_for``)."""
    import json

    kms = boto3.client("kms", region_name=REGION)
    arns: dict[str, str] = {}
    for logical_id in tpl.logical_ids("AWS::KMS::Key"):
        props = tpl.properties(logical_id)
        meta = kms.create_key(Description=str(props.get("Description", "")),
                              Policy=json.dumps(props["KeyPolicy"]))["KeyMetadata"]
        template_arn = str(tpl.get_att(logical_id, "Arn"))
        iam_usage.stands_for(meta["Arn"], template_arn)
        arns[template_arn] = meta["Arn"]
    return {key: arns[value] for fn in tpl.functions.values() for key, value in fn.env.items() if value in arns}


def _forget_modules_in(directory: Path) -> None:
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and Path(path).parent == directory and not name.startswith("_fn_"):
            del sys.modules[name]


def _clear_caches() -> None:
    """Forget per-container caches (clients, settings) so each test starts cold on its own moto."""
    from referral_core import config, deps, observability, referrer_mail
    from referral_core.dal import aws, secrets
    from referral_core.services import branding

    aws.client.cache_clear()
    secrets.clear_caches()
    config.base_settings.cache_clear()
    deps.table.cache_clear()
    referrer_mail.mail_settings.cache_clear()
    observability._metrics.cache_clear()  # a container's Metrics reads its namespace from its environment
    branding.CACHE.clear()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The moto stack; each function's AWS calls are judged against its grants (tests/support/iam_usage.py),
    and a call without one fails the test."""
    with moto_stack(monkeypatch) as opened:
        iam_usage.record_calls_of(boto3.DEFAULT_SESSION)
        iam_usage.RECORDER.take_pending()
        yield opened
        iam_usage.fail_on_calls_without_grant()


@contextmanager
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The ``stack`` fixture's body, also usable outside pytest (bench/: ``pytest.MonkeyPatch.context()``)."""
    from moto import mock_aws

    from local import moto_fixes

    moto_fixes.install()  # atomic requests and stream-safe rollback, as DynamoDB (and the local stack)
    for key, value in BASE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    tpl = template()
    with mock_aws():
        _clear_caches()
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        kwargs = create_table_kwargs(tpl, "Table")
        dynamodb.create_table(**kwargs)
        table_name = kwargs["TableName"]
        ssm_name = tpl.functions["LinkRedirectFunction"].env["PEPPER_PARAM"]
        boto3.client("ssm", region_name=REGION).put_parameter(Name=ssm_name, Value=PEPPER, Type="String",
                                                              Overwrite=True)
        ses = boto3.client("ses", region_name=REGION)
        for fn in tpl.functions.values():
            if "SENDER_EMAIL" in fn.env:
                ses.verify_email_identity(EmailAddress=fn.env["SENDER_EMAIL"])
        for name in {fn.env.get("SES_CONFIGURATION_SET") for fn in tpl.functions.values()} - {None}:
            ses.create_configuration_set(ConfigurationSet={"Name": name})
        env = {"TABLE_NAME": table_name, **_queues(tpl), **_kms_keys(tpl)}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield Stack(table_name=table_name, dynamodb=dynamodb, monkeypatch=monkeypatch, env=env)
        _clear_caches()
