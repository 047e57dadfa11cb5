"""Least privilege, judged where the tests run: each function's grants from the SAM-translated template.

``translate()`` runs the SAM translator (aws-sam-cli's venv, ``.venv-sam``) on the template, so a SAM policy
template means exactly what ``sam deploy`` would make of it. ``function_policies()`` resolves every function
role's inline statements with the local template's values (ARNs of the table, queue, secrets, parameters).

``FunctionPolicy.judge()`` evaluates one :class:`~local.aws_calls.Request` as IAM would for what this project
uses: ``Allow``/``Deny``, ``Action`` (case-insensitive wildcards), ``Resource`` (wildcards) and the
``ForAllValues:StringLike`` condition on ``dynamodb:LeadingKeys`` (the one template.yaml uses). A statement
with any other condition raises :class:`IamError` when the policies are built, so nothing is judged by guesswork.

moto's own IAM check (the local stack turns it on) is basic: it authorises every DynamoDB, SSM, Secrets
Manager, SES, SQS and EventBridge request against resource ``*``, and an ``Allow`` with a condition it cannot
evaluate counts as a deny. ``moto_documents()`` therefore hands moto the *actions* only (``Resource: "*"``, no
conditions, plus ``TransactWriteItems``/``TransactGetItems`` where their item actions are allowed, since moto
authorises a transaction as one action); resources and leading keys are judged here, by the recorder.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from local.aws_calls import Request
from local.template import REPO_ROOT, Template

SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"
TRANSLATE_SCRIPT = Path(__file__).with_name("sam_translate.py")
LEADING_KEYS = "dynamodb:leadingkeys"
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}")
_JUDGED_OPERATOR = "forallvalues:stringlike"
#: moto authorises a transaction as one action; AWS authorises each item as the underlying action.
_MOTO_TRANSACT = {
    "dynamodb:TransactWriteItems": ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                    "dynamodb:ConditionCheckItem"),
    # moto judges an SQS batch call by its own name; AWS by the single-message action (local.aws_calls)
    "sqs:SendMessageBatch": ("sqs:SendMessage",),
}


#: Cognito user-pool operations AWS serves without SigV4 (authorised by a session, code or access token).
UNSIGNED_COGNITO_OPERATIONS = tuple(f"AWSCognitoIdentityProviderService.{op}" for op in (
    "InitiateAuth", "RespondToAuthChallenge", "ForgotPassword", "ConfirmForgotPassword", "GlobalSignOut",
    "RevokeToken", "GetUser", "ChangePassword", "AssociateSoftwareToken", "VerifySoftwareToken",
    "SetUserMFAPreference"))


class IamError(RuntimeError):
    """The template's policies cannot be built or judged (no SAM translator, an unsupported condition)."""


def translate(template_path: Path) -> dict[str, Any]:
    """The CloudFormation the SAM translator makes of ``template_path`` (offline; needs ``.venv-sam``)."""
    return _translate(str(Path(template_path).resolve()), Path(template_path).stat().st_mtime_ns)


@cache
def _translate(path: str, _mtime: int) -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        raise IamError(f"the SAM translator lives in aws-sam-cli's venv: {SAM_PYTHON} is missing "
                       "(`make run` and `make test` create it; LOCAL_IAM=off runs the stack without IAM)")
    out = subprocess.run([str(SAM_PYTHON), str(TRANSLATE_SCRIPT), path], capture_output=True, text=True,  # noqa: S603
                         timeout=120, check=False)
    if out.returncode != 0:
        raise IamError(f"SAM translation of {path} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


@cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM's wildcards match any character, a line break too (a key can hold one: a search for "a\nb").
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob)
    return re.compile(f"^{regex}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    return _pattern(glob, ignore_case).match(value) is not None


@dataclass(frozen=True)
class Grant:
    """The smallest thing a policy grants: one action pattern on one resource pattern (and one leading-key
    pattern when the statement has that condition). "No grant never used" is judged on these."""

    function: str
    policy: str
    action: str
    resource: str
    leading_key: str | None = None

    @property
    def key(self) -> str:
        lead = f" [{self.leading_key}]" if self.leading_key is not None else ""
        return f"{self.policy}: {self.action} on {self.resource}{lead}"


@dataclass(frozen=True)
class Statement:
    policy: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    leading_keys: tuple[str, ...] | None = None  # patterns of the LeadingKeys condition

    def _action(self, action: str) -> str | None:
        return next((a for a in self.actions if matches(a, action, ignore_case=True)), None)

    def _resource(self, resource: str) -> str | None:
        for pattern in self.resources:
            if matches(pattern, resource):
                return pattern
            # Secrets Manager adds "-" and six random characters to a secret's ARN; the in-process tests resolve
            # `!Ref Secret` without them (local.template), while the secret they create on moto has them.
            if ":secret:" in pattern and "*" not in pattern and _SECRET_SUFFIX.fullmatch(resource[len(pattern):]) \
                    and resource.startswith(pattern):
                return pattern
        return None

    def _key(self, key: str) -> str | None:
        return next((p for p in self.leading_keys or () if matches(p, key)), None)

    def match(self, function: str, request: Request) -> list[Grant] | None:
        """The grants of this statement that ``request`` uses, or None when the statement does not apply."""
        action = self._action(request.action)
        resource = self._resource(request.resource) if action else None
        if action is None or resource is None:
            return None
        if self.leading_keys is None:
            return [Grant(function, self.policy, action, resource)]
        if request.leading_keys is None:  # the call names no partition key a table condition could judge
            return None
        keys = [self._key(k) for k in request.leading_keys]
        matched = {k for k in keys if k is not None}
        if len(matched) == 0 or None in keys:
            return None
        return [Grant(function, self.policy, action, resource, k) for k in sorted(matched)]

    def grants(self, function: str) -> list[Grant]:
        return [Grant(function, self.policy, a, r, k) for a in self.actions for r in self.resources
                for k in (self.leading_keys if self.leading_keys is not None else (None,))]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    grants: tuple[Grant, ...] = ()
    reason: str = ""


@dataclass
class FunctionPolicy:
    """One function's execution role: inline statements (judged) and managed policy ARNs (SAM's)."""

    function: str
    role: str
    statements: list[Statement] = field(default_factory=list)
    managed: list[str] = field(default_factory=list)  # reported by tests/support/iam_usage.py
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # policy name -> resolved document

    def judge(self, request: Request) -> Verdict:
        used: list[Grant] = []
        for statement in self.statements:
            found = statement.match(self.function, request)
            if found is None:
                continue
            if statement.effect == "Deny":
                return Verdict(False, (), f"denied by {statement.policy}")
            used += found
        if used:
            return Verdict(True, tuple(used))
        return Verdict(False, (), "no statement allows it")

    def grants(self) -> list[Grant]:
        return [g for s in self.statements if s.effect == "Allow" for g in s.grants(self.function)]

    def moto_documents(self) -> dict[str, dict[str, Any]]:
        """The role's policies as moto can judge them: actions on ``*``, no conditions (see the module doc)."""
        allowed = sorted({a for s in self.statements if s.effect == "Allow" for a in s.actions})
        extra = [t for t, parts in _MOTO_TRANSACT.items()
                 if any(matches(a, p, ignore_case=True) for a in allowed for p in parts)]
        denied = sorted({a for s in self.statements if s.effect == "Deny" and s.resources == ("*",)
                         and s.leading_keys is None for a in s.actions})
        statements: list[dict[str, Any]] = []
        if allowed:
            statements.append({"Effect": "Allow", "Action": allowed + extra, "Resource": "*"})
        if denied:
            statements.append({"Effect": "Deny", "Action": denied, "Resource": "*"})
        return {"actions": {"Version": "2012-10-17", "Statement": statements}} if statements else {}


def _statement(policy: str, raw: Mapping[str, Any]) -> Statement:
    if "NotAction" in raw or "NotResource" in raw or "Principal" in raw:
        raise IamError(f"{policy}: NotAction/NotResource/Principal are not judged locally")
    leading: tuple[str, ...] | None = None
    for operator, body in (raw.get("Condition") or {}).items():
        for key, values in body.items():
            if operator.lower() != _JUDGED_OPERATOR or key.lower() != LEADING_KEYS:
                raise IamError(f"{policy}: condition {operator} {key} is not judged locally "
                               "(extend local/iam.py before using it)")
            leading = _as_tuple(values)
    return Statement(policy, str(raw.get("Effect", "Allow")), _as_tuple(raw.get("Action")),
                     _as_tuple(raw.get("Resource")), leading)


def function_policies(translated: Mapping[str, Any], template: Template) -> dict[str, FunctionPolicy]:
    """Every function of ``template``'s role, resolved with the template's local values."""
    resources = translated["Resources"]
    out: dict[str, FunctionPolicy] = {}
    for logical_id in template.functions:
        role_ref = resources[logical_id]["Properties"].get("Role")
        role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref else None
        policy = FunctionPolicy(logical_id, role_id or "")
        if role_id is None:
            raise IamError(f"{logical_id} has no role of its own in the translated template ({role_ref!r})")
        props = resources[role_id]["Properties"]
        policy.managed = [str(template.resolve(a)) for a in props.get("ManagedPolicyArns") or []]
        for entry in props.get("Policies") or []:
            name = str(entry["PolicyName"])
            document = template.resolve(entry["PolicyDocument"])
            policy.documents[name] = document
            statements = document["Statement"]
            for raw in statements if isinstance(statements, list) else [statements]:
                policy.statements.append(_statement(name, raw))
        out[logical_id] = policy
    return out


def table_hash_keys(template: Template) -> dict[str, str]:
    """Table name -> partition-key attribute, for ``dynamodb:LeadingKeys`` (:class:`~local.aws_calls.Describer`)."""
    out = {}
    for logical_id in template.logical_ids("AWS::DynamoDB::Table"):
        schema = template.properties(logical_id)["KeySchema"]
        out[str(template.ref(logical_id))] = next(str(k["AttributeName"]) for k in schema if k["KeyType"] == "HASH")
    return out


def service_requests(template: Template) -> dict[str, list[tuple[Request, str]]]:
    """What the Lambda service does with a function's role, not its code: the stream event source mapping
    sends a failed batch's record to the SQS OnFailure destination (the local stream poller does it)."""
    out: dict[str, list[tuple[Request, str]]] = {}
    for trigger in template.stream_triggers():
        if trigger.on_failure_arn and ":sqs:" in trigger.on_failure_arn:
            out.setdefault(trigger.function_id, []).append(
                (Request("sqs:SendMessage", trigger.on_failure_arn),
                 f"the {trigger.event_id} event source mapping sends failed records to its OnFailure queue"))
    return out


def _call_key(request: Request) -> str:
    """``action resource`` plus the shapes of the partition keys (``CODE#…``), for people reading a report."""
    key = f"{request.action} {request.resource}"
    if request.leading_keys:
        shapes = sorted({k.split("#", 1)[0] + "#…" if "#" in k else k for k in request.leading_keys})
        key += " [" + ", ".join(shapes) + "]"
    return key


@dataclass
class Usage:
    """Calls seen per function, the grants they used and the calls no grant allowed."""

    policies: Mapping[str, FunctionPolicy]
    calls: dict[str, Counter[str]] = field(default_factory=dict)
    used: dict[str, set[str]] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)

    def record(self, function: str, requests: Iterable[Request]) -> list[dict[str, Any]]:
        """Judge and count ``requests`` made by ``function``; returns the new violations."""
        new: list[dict[str, Any]] = []
        policy = self.policies.get(function)
        for request in requests:
            self.calls.setdefault(function, Counter())[_call_key(request)] += 1
            verdict = policy.judge(request) if policy else Verdict(False, (), "not a template function")
            if verdict.allowed:
                self.used.setdefault(function, set()).update(g.key for g in verdict.grants)
            else:
                new.append({"function": function, **request.as_json(), "reason": verdict.reason})
        self.violations += new
        return new

    def merge(self, report: Mapping[str, Any]) -> None:
        """Add another recorder's :meth:`as_json` (the local stack's ``GET /_local/iam``)."""
        for function, entry in (report.get("functions") or {}).items():
            self.calls.setdefault(function, Counter()).update(entry.get("calls") or {})
            self.used.setdefault(function, set()).update(entry.get("used_grants") or [])
        self.violations += list(report.get("violations") or [])

    def as_json(self) -> dict[str, Any]:
        return {
            "functions": {f: {"calls": dict(sorted(self.calls.get(f, Counter()).items())),
                              "used_grants": sorted(self.used.get(f, set()))}
                          for f in sorted(set(self.calls) | set(self.used))},
            "violations": self.violations,
        }


# --------------------------------------------------------------------------------------------- moto

ADMIN_USER = "local-admin"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


_patched = False


def _json_access_denied() -> None:
    """moto answers a denied request in IAM's XML even for JSON services (DynamoDB, SSM, Secrets Manager,
    EventBridge), which botocore reads as error code "403"; AWS answers ``AccessDeniedException`` there."""
    global _patched
    if _patched:
        return
    from moto.core.exceptions import JsonRESTError
    from moto.iam.access_control import IAMRequest

    xml_denied = IAMRequest._raise_access_denied

    def raise_access_denied(self: Any) -> None:
        headers = {k.lower(): v for k, v in dict(self._headers).items()}
        if "x-amz-target" in headers or "json" in str(headers.get("content-type", "")):
            raise JsonRESTError("AccessDeniedException", f"User: {self._access_key.arn} is not authorized to "
                                f"perform: {self._action} because no identity-based policy allows the "
                                f"{self._action} action")
        xml_denied(self)

    IAMRequest._raise_access_denied = raise_access_denied  # type: ignore[method-assign]
    _patched = True


class MotoIam:
    """Turns on moto's IAM authorisation for a moto server running in this process.

    ``provision()`` (before :meth:`enable`) creates the ``local-admin`` user that the stack's own clients,
    the stream poller and the tests sign as (its access key is made ``testing``/``testing``, the key every
    moto client here uses), and one role per function with :meth:`FunctionPolicy.moto_documents`, assumes each
    role and returns the session credentials a worker gets, as Lambda hands a function its role's.
    """

    def __init__(self, iam_client: Any, sts_client: Any, account_id: str) -> None:
        self.iam = iam_client
        self.sts = sts_client
        self.account_id = account_id
        self._previous: float | None = None

    def provision(
        self, functions: Mapping[str, Any], policies: Mapping[str, FunctionPolicy]
    ) -> dict[str, dict[str, str]]:
        from moto.iam.models import iam_backends

        self.iam.create_user(UserName=ADMIN_USER)
        self.iam.put_user_policy(UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        self.iam.create_access_key(UserName=ADMIN_USER)
        for key in iam_backends[self.account_id]["aws"].get_user(ADMIN_USER).access_keys:
            key.access_key_id = "testing"
            key.secret_access_key = "testing"  # noqa: S105 - moto's well-known local key
        credentials: dict[str, dict[str, str]] = {}
        for logical_id, policy in policies.items():
            function = functions[logical_id]
            role_name = f"{function.name}-role"[:64]
            role = self.iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
            for name, document in policy.moto_documents().items():
                self.iam.put_role_policy(RoleName=role_name, PolicyName=name, PolicyDocument=json.dumps(document))
            assumed = self.sts.assume_role(RoleArn=role["Arn"], RoleSessionName=function.name[:64],
                                           DurationSeconds=43200)
            credentials[logical_id] = {k: assumed["Credentials"][k]
                                       for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
        return credentials

    def enable(self) -> None:
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        _json_access_denied()
        if self._previous is None:
            self._previous = settings.INITIAL_NO_AUTH_ACTION_COUNT
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        # Cognito's user operations are unsigned on AWS (the staff console calls them with no credentials);
        # moto lists only some of them as public, so the others would be refused once IAM is enforced.
        public = ActionAuthenticatorMixin.PUBLIC_OPERATIONS
        public += [t for t in UNSIGNED_COGNITO_OPERATIONS if t not in public]

    def disable(self) -> None:
        from moto import settings

        if self._previous is not None:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = self._previous
            self._previous = None
