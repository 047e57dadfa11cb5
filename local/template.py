"""Read template.yaml the way CloudFormation + SAM would, for the local stack.

`load_template()` parses the YAML (short tags included), applies `Globals`, resolves Parameters,
Conditions and the intrinsic functions template.yaml uses (Ref, GetAtt, Sub, Join, If, Equals, Not, And,
Condition) against *local* physical ids, and exposes a typed model of what the local stack serves:
functions with their HttpApi / DynamoDB / SQS / Schedule events and the JWT authorizers; the resources
(tables, queues, Cognito, SSM parameters, secrets, SES identities) by logical id. Physical ids of
resources created on moto (user pool ids, stream ARNs, queue URLs...) are recorded with
`Template.set_physical()`; until then a deterministic placeholder is used, so the model can be read without
any server (tests do that).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "referral-local"
URL_SUFFIX = "amazonaws.com"
DEFAULT_PORT = 3000


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve."""


# --------------------------------------------------------------------------------------------- YAML


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (`!Ref x`) into their long form (`{"Ref": x}`)."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation YAML file into plain dicts with long-form intrinsics."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return data


# --------------------------------------------------------------------------------------------- model

AuthorizerName = str | None
Props = dict[str, Any]


@dataclass(frozen=True)
class HttpRoute:
    """One HttpApi event of a function: `METHOD /path` (SAM syntax, `{param}` and `{proxy+}`)."""

    function_id: str
    event_id: str
    method: str
    path: str
    authorizer: AuthorizerName

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class StreamTrigger:
    """One DynamoDB event of a function (an event source mapping on a table's stream)."""

    function_id: str
    event_id: str
    stream_arn: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    filter_patterns: tuple[dict[str, Any], ...] = ()
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    bisect_on_error: bool = False
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class QueueTrigger:
    """One SQS event of a function (an event source mapping on a queue)."""

    function_id: str
    event_id: str
    queue_arn: str
    batch_size: int = 10
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class ScheduleTrigger:
    """A Schedule event (an EventBridge rule)."""

    function_id: str
    event_id: str
    expression: str


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    arn: str
    code_uri: Path
    handler: str
    env: dict[str, str]
    timeout_s: int
    memory_mb: int
    layer_dirs: tuple[Path, ...]
    routes: tuple[HttpRoute, ...] = ()
    streams: tuple[StreamTrigger, ...] = ()
    schedules: tuple[ScheduleTrigger, ...] = ()
    queues: tuple[QueueTrigger, ...] = ()

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def func_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    issuer: str
    audience: tuple[str, ...]


@dataclass(frozen=True)
class HttpApi:
    logical_id: str
    authorizers: dict[str, JwtAuthorizer]
    cors: dict[str, Any] | None


# --------------------------------------------------------------------------------------------- resolution

@dataclass
class _Physical:
    ref: str
    attrs: dict[str, str] = field(default_factory=dict)


def _merge_globals(globals_: Any, props: Any) -> Any:
    """SAM Globals rules: maps merge (resource wins), lists append, scalars are overridden."""
    if isinstance(globals_, dict) and isinstance(props, dict):
        merged = dict(globals_)
        for key, value in props.items():
            merged[key] = _merge_globals(globals_[key], value) if key in globals_ else value
        return merged
    if isinstance(globals_, list) and isinstance(props, list):
        return [*globals_, *props]
    return props


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_env_str(v) for v in value)
    return "" if value is None else str(value)


class Template:
    """A parsed template plus the local values its intrinsics resolve to."""

    def __init__(
        self,
        raw: dict[str, Any],
        path: Path,
        *,
        port: int = DEFAULT_PORT,
        parameter_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.raw = raw
        self.path = path
        self.root = path.parent
        self.port = port
        self.pseudo: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::Partition": "aws",
        }
        self.parameters = self._resolve_parameters(parameter_overrides or {})
        self._physical: dict[str, _Physical] = {}
        self.conditions: dict[str, bool] = {}
        for name in raw.get("Conditions") or {}:
            self._condition(name)
        self.resources: dict[str, dict[str, Any]] = self._apply_globals()

    # ------------------------------------------------------------------ parameters and conditions

    def _resolve_parameters(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, spec in (self.raw.get("Parameters") or {}).items():
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default; set LOCAL_PARAM_{name}")
            value = "" if value is None else value
            is_list = spec.get("Type") == "CommaDelimitedList"
            params[name] = [v.strip() for v in str(value).split(",")] if is_list else _env_str(value)
        return params

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            expr = (self.raw.get("Conditions") or {}).get(name)
            if expr is None:
                raise TemplateError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(expr))
        return self.conditions[name]

    def _apply_globals(self) -> dict[str, dict[str, Any]]:
        globals_ = self.raw.get("Globals") or {}
        by_type = {"AWS::Serverless::Function": globals_.get("Function"),
                   "AWS::Serverless::HttpApi": globals_.get("HttpApi")}
        resources: dict[str, dict[str, Any]] = {}
        for logical_id, resource in (self.raw.get("Resources") or {}).items():
            if "Condition" in resource and not self._condition(resource["Condition"]):
                continue
            resource = copy.deepcopy(resource)
            defaults = by_type.get(resource.get("Type", ""))
            if defaults:
                resource["Properties"] = _merge_globals(copy.deepcopy(defaults), resource.get("Properties") or {})
            resources[logical_id] = resource
        return resources

    # ------------------------------------------------------------------ physical ids

    def set_physical(self, logical_id: str, ref: str, **attrs: str) -> None:
        """Record the real (moto) id of a resource; `attrs` are its `!GetAtt` values."""
        self._physical[logical_id] = _Physical(ref, dict(attrs))

    def resource_type(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"unknown resource {logical_id}")
        return str(self.resources[logical_id].get("Type", ""))

    def _raw_props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    def physical_name(self, logical_id: str) -> str:
        """The local name of a resource: its explicit name property or `{stack}-{logical id}`."""
        rtype = self.resource_type(logical_id)
        name_prop = {
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::SSM::Parameter": "Name",
            "AWS::SecretsManager::Secret": "Name",
            "AWS::Cognito::UserPool": "UserPoolName",
            "AWS::Cognito::UserPoolClient": "ClientName",
            "AWS::Cognito::UserPoolGroup": "GroupName",
            "AWS::Cognito::UserPoolUser": "Username",
            "AWS::Serverless::Function": "FunctionName",
        }.get(rtype)
        props = self._raw_props(logical_id)
        if name_prop and props.get(name_prop) not in (None, ""):
            return str(self.resolve(props[name_prop]))
        if rtype == "AWS::SQS::Queue" and props.get("FifoQueue"):
            return f"{STACK_NAME}-{logical_id}.fifo"
        return f"{STACK_NAME}-{logical_id}"

    def ref(self, logical_id: str) -> Any:
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        if logical_id in self.pseudo:
            return self.pseudo[logical_id]
        if logical_id in self._physical:
            return self._physical[logical_id].ref
        rtype = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        if rtype == "AWS::SQS::Queue":
            return f"http://127.0.0.1/{ACCOUNT_ID}/{name}"
        if rtype == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}"
        if rtype == "AWS::Cognito::UserPool":
            return f"{REGION}_local{logical_id}"
        if rtype == "AWS::Cognito::UserPoolClient":
            return f"local{logical_id}"
        if rtype == "AWS::Serverless::HttpApi":
            return "local"
        if rtype == "AWS::Serverless::LayerVersion":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{logical_id}:1"
        if rtype == "AWS::KMS::Key":  # a key id (moto picks the real one: local.resources records it)
            return f"local-{logical_id}"
        return name

    def get_att(self, logical_id: str, attr: str) -> Any:
        physical = self._physical.get(logical_id)
        if physical and attr in physical.attrs:
            return physical.attrs[attr]
        rtype = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        arn_prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT_ID}"
        if rtype == "AWS::DynamoDB::Table":
            table_arn = f"{arn_prefix.format('dynamodb')}:table/{name}"
            return {"Arn": table_arn, "StreamArn": f"{table_arn}/stream/local"}[attr]
        if rtype == "AWS::SQS::Queue":
            return {"Arn": f"{arn_prefix.format('sqs')}:{name}", "QueueName": name}[attr]
        if rtype == "AWS::Cognito::UserPool" and attr == "Arn":
            return f"{arn_prefix.format('cognito-idp')}:userpool/{self.ref(logical_id)}"
        if rtype == "AWS::KMS::Key":
            key_id = self.ref(logical_id)
            return {"Arn": f"{arn_prefix.format('kms')}:key/{key_id}", "KeyId": key_id}[attr]
        if rtype == "AWS::Serverless::Function" and attr == "Arn":
            return f"{arn_prefix.format('lambda')}:function:{name}"
        if attr == "Arn":
            service = rtype.split("::")[1].lower()
            return f"{arn_prefix.format(service)}:{logical_id.lower()}:{name}"
        raise TemplateError(f"!GetAtt {logical_id}.{attr} is not supported locally")

    # ------------------------------------------------------------------ intrinsics

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in `value` (returns a new structure)."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in self._intrinsics:
            ((key, arg),) = value.items()
            return self._intrinsics[key](self, arg)
        return {key: self.resolve(item) for key, item in value.items()}

    def _fn_ref(self, arg: Any) -> Any:
        return self.ref(self.resolve(arg))

    def _fn_get_att(self, arg: Any) -> Any:
        logical_id, attr = self.resolve(arg)
        return self.get_att(logical_id, attr)

    _SUB_VAR = re.compile(r"\$\{([^}]+)\}")

    def _fn_sub(self, arg: Any) -> str:
        # The list form comes from the SAM translator (its policy templates), for local.iam.
        text, variables = (arg[0], self.resolve(arg[1])) if isinstance(arg, list) else (arg, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return _env_str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                logical_id, attr = name.split(".", 1)
                return _env_str(self.get_att(logical_id, attr))
            return _env_str(self.ref(name))

        return self._SUB_VAR.sub(replace, str(text))

    def _fn_join(self, arg: Any) -> str:
        sep, items = arg
        items = self.resolve(items)
        return str(sep).join(_env_str(i) for i in items)

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self._condition(name) else when_false)

    def _fn_equals(self, arg: Any) -> bool:
        left, right = self.resolve(arg)
        return _env_str(left) == _env_str(right)

    def _fn_not(self, arg: Any) -> bool:
        return not self.resolve(arg)[0]

    def _fn_and(self, arg: Any) -> bool:
        return all(self.resolve(arg))

    def _fn_condition(self, arg: Any) -> bool:
        return self._condition(arg)

    _intrinsics: dict[str, Callable[[Template, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Condition": _fn_condition,
    }

    # ------------------------------------------------------------------ the model

    def properties(self, logical_id: str) -> dict[str, Any]:
        """Resolved properties of one resource."""
        return self.resolve(self._raw_props(logical_id))  # type: ignore[no-any-return]

    def logical_ids(self, *types: str) -> list[str]:
        return [lid for lid, res in self.resources.items() if res.get("Type") in types]

    @property
    def http_apis(self) -> dict[str, HttpApi]:
        apis: dict[str, HttpApi] = {}
        for logical_id in self.logical_ids("AWS::Serverless::HttpApi"):
            props = self.properties(logical_id)
            auth = props.get("Auth") or {}
            authorizers = {}
            for name, spec in (auth.get("Authorizers") or {}).items():
                jwt_config = spec["JwtConfiguration"]  # the only kind emulated
                authorizers[name] = JwtAuthorizer(name=name, issuer=str(jwt_config["issuer"]),
                                                  audience=tuple(str(a) for a in jwt_config["audience"]))
            apis[logical_id] = HttpApi(logical_id=logical_id, authorizers=authorizers,
                                       cors=props.get("CorsConfiguration"))
        return apis

    def _layer_dirs(self, layers: list[Any]) -> tuple[Path, ...]:
        dirs = []
        for layer in layers:
            logical_id = layer.get("Ref") if isinstance(layer, dict) else None
            if logical_id and self.resources.get(logical_id, {}).get("Type") == "AWS::Serverless::LayerVersion":
                content = self.resolve(self._raw_props(logical_id).get("ContentUri"))
                if isinstance(content, str):
                    dirs.append((self.root / content).resolve())
        return tuple(dirs)

    def _events(self, logical_id: str, props: Props) -> dict[str, list[Any]]:
        """The function's events by type, each read by its reader (HttpApi, DynamoDB, SQS, Schedule)."""
        events: dict[str, list[Any]] = {kind: [] for kind in self._event_readers}
        for event_id, event in (props.get("Events") or {}).items():
            reader = self._event_readers[event["Type"]]
            events[event["Type"]].append(reader(self, logical_id, event_id, event.get("Properties") or {}))
        return events

    def function(self, logical_id: str) -> Function:
        props = self.properties(logical_id)
        events = self._events(logical_id, props)
        code_uri = props.get("CodeUri") or "."
        return Function(
            logical_id=logical_id,
            name=self.physical_name(logical_id),
            arn=self.get_att(logical_id, "Arn"),
            code_uri=(self.root / code_uri).resolve(),
            handler=str(props.get("Handler", "app.handler")),
            env={k: _env_str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()},
            timeout_s=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
            layer_dirs=self._layer_dirs(list(self._raw_props(logical_id).get("Layers") or [])),
            routes=tuple(events["HttpApi"]),
            streams=tuple(events["DynamoDB"]),
            schedules=tuple(events["Schedule"]),
            queues=tuple(events["SQS"]),
        )

    # Each event reader gets the function's and event's logical ids and the resolved event properties.
    def _http_route(self, function_id: str, event_id: str, ep: Props) -> HttpRoute:
        return HttpRoute(function_id=function_id, event_id=event_id, method=str(ep["Method"]).upper(),
                         path=str(ep["Path"]), authorizer=(ep.get("Auth") or {}).get("Authorizer"))

    def _stream_trigger(self, function_id: str, event_id: str, ep: Props) -> StreamTrigger:
        filters = ((ep.get("FilterCriteria") or {}).get("Filters")) or []
        return StreamTrigger(
            function_id=function_id, event_id=event_id, stream_arn=str(ep["Stream"]),
            batch_size=int(ep.get("BatchSize", 100)),
            batching_window_s=float(ep.get("MaximumBatchingWindowInSeconds", 0)),
            filter_patterns=tuple(json.loads(f["Pattern"]) for f in filters),
            report_batch_item_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
            maximum_retry_attempts=int(ep.get("MaximumRetryAttempts", -1)),
            maximum_record_age_s=int(ep.get("MaximumRecordAgeInSeconds", -1)),
            bisect_on_error=bool(ep.get("BisectBatchOnFunctionError", False)),
            on_failure_arn=((ep.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"))

    def _queue_trigger(self, function_id: str, event_id: str, ep: Props) -> QueueTrigger:
        return QueueTrigger(
            function_id=function_id, event_id=event_id, queue_arn=str(ep["Queue"]),
            batch_size=int(ep.get("BatchSize", 10)),
            report_batch_item_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []))

    def _schedule(self, function_id: str, event_id: str, ep: Props) -> ScheduleTrigger:
        return ScheduleTrigger(function_id=function_id, event_id=event_id, expression=str(ep["Schedule"]))

    _event_readers: dict[str, Callable[..., Any]] = {
        "HttpApi": _http_route, "DynamoDB": _stream_trigger, "SQS": _queue_trigger, "Schedule": _schedule,
    }

    @property
    def functions(self) -> dict[str, Function]:
        return {lid: self.function(lid) for lid in self.logical_ids("AWS::Serverless::Function")}

    def routes(self) -> Iterator[HttpRoute]:
        for fn in self.functions.values():
            yield from fn.routes

    def stream_triggers(self) -> Iterator[StreamTrigger]:
        for fn in self.functions.values():
            yield from fn.streams

    def queue_triggers(self) -> Iterator[QueueTrigger]:
        for fn in self.functions.values():
            yield from fn.queues


# --------------------------------------------------------------------------------------------- loading


COGNITO_PROXY_PATH = "/_local/cognito-idp"


def local_parameter_overrides(port: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Parameters the local stack sets, plus any `LOCAL_PARAM_<Name>` variable: PublicBaseUrl (the local
    URL), StaffAuthEndpoint (the gateway's Cognito proxy, so the staff page signs in same-origin) and
    StaffEmail (the first staff user is the demo admin; `staff@example.com` is the demo staff member) and
    AllowPrivateWebhookTargets (outbound webhooks may go to 127.0.0.1)."""
    environ = os.environ if environ is None else environ
    base = f"http://127.0.0.1:{port}"
    overrides = {"PublicBaseUrl": base, "StaffAuthEndpoint": f"{base}{COGNITO_PROXY_PATH}/",
                 "StaffEmail": "admin@example.com", "AllowPrivateWebhookTargets": "true"}
    prefix = "LOCAL_PARAM_"
    overrides.update({k[len(prefix) :]: v for k, v in environ.items() if k.startswith(prefix)})
    return overrides


def load_template(
    path: str | Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    parameter_overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Template:
    """Load a template with the local parameter overrides (see `local_parameter_overrides`)."""
    template_path = Path(path) if path else DEFAULT_TEMPLATE
    overrides = local_parameter_overrides(port, environ)
    overrides.update(parameter_overrides or {})
    raw = load_yaml(template_path)
    declared = set((raw.get("Parameters") or {}).keys())
    return Template(
        raw,
        template_path.resolve(),
        port=port,
        parameter_overrides={k: v for k, v in overrides.items() if k in declared},
    )


def create_table_kwargs(
    template: Template | str | Path | None, logical_id: str, *, table_name: str | None = None
) -> dict[str, Any]:
    """boto3 `create_table` kwargs from the template's own Table properties (keys, GSIs, stream, billing)."""
    tpl = template if isinstance(template, Template) else load_template(template)
    props = tpl.properties(logical_id)
    kwargs: dict[str, Any] = {"TableName": table_name or tpl.physical_name(logical_id),
                              **{k: props[k] for k in ("KeySchema", "AttributeDefinitions", "BillingMode")}}
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return kwargs


def table_ttl_attribute(template: Template, logical_id: str) -> str | None:
    """The table's TTL attribute name when TimeToLiveSpecification is enabled."""
    ttl = template.properties(logical_id).get("TimeToLiveSpecification") or {}
    return str(ttl["AttributeName"]) if ttl.get("Enabled") and ttl.get("AttributeName") else None
