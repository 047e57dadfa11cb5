"""The whole local stack: moto, the template's resources, workers, stream poller and HTTP gateway."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from local import moto_fixes
from local.aws_calls import Request
from local.gateway import Gateway, JwtVerifier
from local.iam import (
    UNSIGNED_COGNITO_OPERATIONS,
    FunctionPolicy,
    MotoIam,
    Usage,
    function_policies,
    table_hash_keys,
    translate,
)
from local.persistence import Outbox, TableSnapshots
from local.resources import CreatedResources, ResourceBuilder, aws_client
from local.runtime import Runtime
from local.streams import StreamPoller, build_consumers, build_queue_consumers, sqs_failure_sender
from local.template import (
    ACCOUNT_ID,
    DEFAULT_PORT,
    DEFAULT_TEMPLATE,
    REGION,
    REPO_ROOT,
    Template,
    load_template,
)

log = logging.getLogger("local.stack")

TOKEN_REFRESH_S = 30 * 60
_COGNITO_TARGET = "AWSCognitoIdentityProviderService."
# moto hands the forgot-password code back in this header and checks only codes with this prefix.
_MOTO_CODE_HEADER = "x-moto-forgot-password-confirmation-code"
_MOTO_CODE_PREFIX = "moto-confirmation-code:"
_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[\w-]+)$")


@dataclass(frozen=True)
class StackSettings:
    """Where and what to serve. Defaults: template.yaml, port 3000, `.local/` in the repository."""

    template_path: Path = DEFAULT_TEMPLATE
    port: int = DEFAULT_PORT
    local_dir: Path = REPO_ROOT / ".local"
    snapshot_interval_s: float = 2.0
    #: Workers sign with their role's credentials and moto authorises every request (docs/architecture.md).
    iam: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackSettings:
        """Read `PORT`, `LOCAL_DIR`, `LOCAL_TEMPLATE` and `LOCAL_IAM` (`off` or `on`; all optional, see the
        defaults above)."""
        environ = os.environ if environ is None else environ
        defaults = cls()
        iam = environ.get("LOCAL_IAM") or "on"
        if iam not in ("on", "off"):
            raise ValueError(f"LOCAL_IAM must be on or off, not {iam!r}")
        return cls(
            template_path=Path(environ["LOCAL_TEMPLATE"]) if environ.get("LOCAL_TEMPLATE") else defaults.template_path,
            port=int(environ["PORT"]) if environ.get("PORT") else defaults.port,
            local_dir=Path(environ["LOCAL_DIR"]) if environ.get("LOCAL_DIR") else defaults.local_dir,
            iam=iam == "on",
        )


def quiet_servers() -> None:
    """werkzeug logs every request of moto and of the gateway; keep only warnings."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


class LocalStack:
    """Starts and stops everything; also serves the `/_local/*` tools of the gateway."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.local_dir = settings.local_dir.resolve()
        self.template: Template | None = None
        self.resources: CreatedResources | None = None
        self.aws_endpoint = ""
        self.base_url = ""
        self._moto: ThreadedMotoServer | None = None
        self._runtime: Runtime | None = None
        self._poller: StreamPoller | None = None
        self._snapshots: TableSnapshots | None = None
        self._outbox: Outbox | None = None
        self._builder: ResourceBuilder | None = None
        self._moto_iam: MotoIam | None = None
        self._policies: dict[str, FunctionPolicy] = {}
        self._usage: Usage | None = None
        self._usage_lock = threading.Lock()
        self._gateway = Gateway(tools=self)
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._background: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        quiet_servers()
        moto_fixes.install()
        self.local_dir.mkdir(parents=True, exist_ok=True)
        port = self._gateway.serve("127.0.0.1", self.settings.port)  # health answers 503 until ready
        self.base_url = f"http://127.0.0.1:{port}"
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, moto_port = self._moto.get_host_and_port()
        self.aws_endpoint = f"http://{host}:{moto_port}"

        template = load_template(self.settings.template_path, port=port)
        self.template = template
        self._builder = ResourceBuilder(template, self.aws_endpoint, self.local_dir)
        self.resources = self._builder.create_all()
        functions = template.functions
        credentials: dict[str, dict[str, str]] | None = None
        record: dict[str, Any] | None = None
        if self.settings.iam:
            self._policies = function_policies(translate(template.path), template)
            self._usage = Usage(self._policies)
            self._moto_iam = MotoIam(self.client("iam"), self.client("sts"), ACCOUNT_ID)
            credentials = self._moto_iam.provision(functions, self._policies)
            record = {"region": REGION, "account": ACCOUNT_ID, "hash_keys": table_hash_keys(template)}
        self._runtime = Runtime(functions, aws_endpoint=self.aws_endpoint, credentials=credentials,
                                record_calls=record, on_calls=self._record_calls)

        self._snapshots = TableSnapshots(self.client("dynamodb"), self.resources.tables, self.local_dir)
        restored = self._snapshots.restore()
        if restored:
            log.info("restored items: %s", restored)
        self._outbox = Outbox(self.local_dir)

        consumers = build_consumers(
            template.stream_triggers(),
            functions,
            self._runtime.invoke,
            sqs_failure_sender(self.client("sqs")),
        )
        queue_consumers = build_queue_consumers(template.queue_triggers(), self._runtime.invoke, self.client("sqs"))
        self._poller = StreamPoller(self.client("dynamodbstreams"), consumers, queue_consumers)
        self._poller.start()  # LATEST iterators: restored items are not delivered again

        verifiers = {}
        for api in template.http_apis.values():
            for name, authorizer in api.authorizers.items():
                verifiers[name] = JwtVerifier(authorizer, self._jwks_url(authorizer.issuer))
        self._gateway.configure(
            routes=list(template.routes()),
            apis=template.http_apis,
            invoke=self._runtime.invoke,
            verifiers=verifiers,
        )
        self._background = threading.Thread(target=self._housekeeping, daemon=True, name="housekeeping")
        self._background.start()
        if self._moto_iam is not None:
            self._moto_iam.enable()  # from here on, moto authorises every request (the stack signs as local-admin)
        self._ready.set()

    def stop(self) -> None:
        """Stop serving, finish with a snapshot, then stop workers and moto."""
        if self._stopping.is_set():
            return
        started = time.monotonic()
        self._stopping.set()
        self._ready.clear()
        self._gateway.shutdown()
        if self._poller is not None:
            self._poller.stop()
        if self._background is not None:
            self._background.join(timeout=10)
        self._save()
        if self._runtime is not None:
            self._runtime.close()
        if self._moto is not None:
            self._moto.stop()
        if self._moto_iam is not None:
            self._moto_iam.disable()
        log.info("local stack stopped in %.1fs", time.monotonic() - started)

    def _housekeeping(self) -> None:
        since_refresh = 0.0
        interval = self.settings.snapshot_interval_s
        while not self._stopping.wait(interval):
            self._save()
            since_refresh += interval
            if since_refresh >= TOKEN_REFRESH_S and self._builder is not None:
                since_refresh = 0.0
                try:
                    self._builder.refresh_tokens()
                except Exception:
                    log.exception("could not refresh the demo tokens")

    def _save(self) -> None:
        try:
            if self._snapshots is not None:
                self._snapshots.snapshot()
            if self._outbox is not None:
                self._outbox.save()
        except Exception:  # a failed snapshot must not stop the stack
            log.exception("snapshot failed")

    def client(self, service: str) -> Any:
        return aws_client(service, self.aws_endpoint)

    def _record_calls(self, function_id: str, calls: list[Any]) -> None:
        """A worker's AWS calls: judged against the function's grants (resources and leading keys too)."""
        if self._usage is None:
            return
        with self._usage_lock:
            for violation in self._usage.record(function_id, [Request.from_json(c) for c in calls]):
                log.warning("IAM: %s called %s on %s without a grant (%s)", function_id, violation["action"],
                            violation["resource"], violation["reason"])

    def iam_report(self) -> dict[str, Any]:
        """Each function's AWS calls, the grants they used and the calls without one (`GET /_local/iam`)."""
        if self._usage is None:
            return {"enforced": False, "functions": {}, "violations": []}
        with self._usage_lock:
            return {"enforced": True, **self._usage.as_json()}

    def _jwks_url(self, issuer: str) -> str:
        found = _COGNITO_ISSUER.match(issuer)
        if found:
            return f"{self.aws_endpoint}/{found.group('pool')}/.well-known/jwks.json"
        return issuer.rstrip("/") + "/.well-known/jwks.json"

    # ------------------------------------------------------------------ local tools (LocalTools)

    def is_ready(self) -> bool:
        return self._ready.is_set()

    def outbox(self) -> list[dict[str, Any]]:
        return self._outbox.messages() if self._outbox else []

    def tick(self) -> list[dict[str, Any]]:
        """Invoke every function with a Schedule event, now."""
        assert self.template is not None
        assert self._runtime is not None
        ran = []
        for function in self.template.functions.values():
            for schedule in function.schedules:
                event = self._scheduled_event(function.name, schedule.event_id)
                result = self._runtime.invoke(function.logical_id, event)
                ran.append({"event": schedule.event_id, "schedule": schedule.expression, **result.as_json()})
        return ran

    @staticmethod
    def _scheduled_event(function_name: str, event_id: str) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{function_name}-{event_id}"],
            "detail": {},
        }

    def streams_status(self) -> list[dict[str, Any]]:
        return self._poller.status() if self._poller else []

    def drain(self, timeout_s: float) -> bool:
        return self._poller.drain(timeout_s) if self._poller else True

    def cognito(self, target: str, body: bytes) -> tuple[int, bytes]:
        """Cognito's public API for the staff page, same-origin (POST /_local/cognito-idp).

        ForgotPassword's code, which Cognito would email, is put in the outbox (its digits; ConfirmForgotPassword
        gets moto's prefix back, so a wrong code fails as it does on AWS)."""
        operation = target.removeprefix(_COGNITO_TARGET)
        # Only Cognito's unsigned operations (moto checks no signatures: an Admin* call would pass for anyone).
        if target not in UNSIGNED_COGNITO_OPERATIONS:
            return 400, _cognito_error("InvalidParameterException", f"{target or 'no X-Amz-Target'} is not proxied")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return 400, _cognito_error("SerializationException", "the body is not JSON")
        if operation == "ConfirmForgotPassword" and isinstance(request, dict):
            request["ConfirmationCode"] = _MOTO_CODE_PREFIX + str(request.get("ConfirmationCode", ""))
        forwarded = urllib.request.Request(  # noqa: S310 - the local moto URL
            self.aws_endpoint + "/", data=json.dumps(request).encode(), method="POST",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
        )
        try:
            with urllib.request.urlopen(forwarded, timeout=10) as resp:  # noqa: S310 - the local moto URL
                status, headers, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, headers, payload = err.code, err.headers, err.read()
        code = headers.get(_MOTO_CODE_HEADER)
        if operation == "ForgotPassword" and status == 200 and code and self._outbox is not None:
            self._outbox.add(source="no-reply@verificationemail.com", to=str(request.get("Username", "")),
                             subject="Your verification code",
                             text=f"Your password reset code is {code.removeprefix(_MOTO_CODE_PREFIX)}")
        return status, payload

    def info(self) -> dict[str, Any]:
        assert self.template is not None
        assert self.resources is not None
        return {
            "base_url": self.base_url,
            "aws_endpoint": self.aws_endpoint,
            "local_dir": str(self.local_dir),
            "template": str(self.template.path),
            "tables": self.resources.tables,
            "queues": self.resources.queues,
            "user_pools": self.resources.user_pools,
            "user_pool_clients": self.resources.clients,
            "secrets": self.resources.secrets,
            "parameters": self.resources.parameters,
            "iam": {"enforced": self._moto_iam is not None},
            "routes": [
                {"route_key": r.route_key, "function": r.function_id, "authorizer": r.authorizer}
                for r in self.template.routes()
            ],
            "stream_consumers": [f"{t.function_id}.{t.event_id}" for t in self.template.stream_triggers()],
            "queue_consumers": [f"{t.function_id}.{t.event_id}" for t in self.template.queue_triggers()],
            "scheduled": [
                f"{f.logical_id}.{s.event_id}" for f in self.template.functions.values() for s in f.schedules
            ],
        }


def _cognito_error(kind: str, message: str) -> bytes:
    return json.dumps({"__type": kind, "message": message}).encode()
