"""Create the template's resources on the moto server and record their physical ids in the template.

Tables (keys, GSIs, stream, TTL), SQS queues, SSM parameters, Secrets Manager secrets, KMS keys, SES
identities and Cognito pools/clients/groups/users. Generated values (the pepper, the webhook and other secrets) are
random on first start and persisted in the local directory, so hashes and signatures stay valid across
restarts. Two demo users with known passwords are added for the staff authorizer.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local.template import REGION, Template, create_table_kwargs, table_ttl_attribute

log = logging.getLogger("local.resources")

DEMO_PASSWORD = "Local-Passw0rd-123"  # noqa: S105 - documented password of the local demo users
ADMIN_EMAIL = "admin@example.com"  # the template's first staff user (StaffEmail, set by the local stack)
STAFF_EMAIL = "staff@example.com"
VIEWER_EMAIL = "viewer@example.com"
STAFF_GROUP = "staff"
VIEWER_GROUP = "viewer"
# Demo users and the groups they are put in when the pool has them (role -> email, group).
DEMO_USERS = {"admin": (ADMIN_EMAIL, "admin"), "staff": (STAFF_EMAIL, STAFF_GROUP),
              "viewer": (VIEWER_EMAIL, VIEWER_GROUP)}


# The template's Cognito properties that moto's CreateUserPool / CreateUserPoolClient take.
_POOL_KEYS = ("Policies", "AutoVerifiedAttributes", "UsernameAttributes", "MfaConfiguration",
              "AdminCreateUserConfig", "AccountRecoverySetting")
_CLIENT_KEYS = ("GenerateSecret", "ExplicitAuthFlows", "PreventUserExistenceErrors", "AccessTokenValidity",
                "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits")

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def aws_client(service: str, endpoint: str) -> Any:
    """A boto3 client for the local moto server (fake credentials, us-east-1), created once per service."""
    with _clients_lock:
        if (service, endpoint) not in _clients:
            _clients[service, endpoint] = boto3.session.Session().client(
                service,  # type: ignore[call-overload]
                endpoint_url=endpoint,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
                config=Config(retries={"max_attempts": 2}, account_id_endpoint_mode="disabled"),
            )
        return _clients[service, endpoint]


def _random_string(length: int) -> str:
    """What GenerateSecretString makes with ExcludePunctuation (the template's secrets all exclude it)."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


@dataclass
class CreatedResources:
    """What the rest of the stack (and the banner) needs to know about the created resources."""

    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> pool id
    clients: dict[str, str] = field(default_factory=dict)  # logical id -> client id
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    parameters: dict[str, str] = field(default_factory=dict)  # logical id -> name
    webhook_secret: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # staff / viewer -> ID token
    token_client: tuple[str, str] | None = None  # (pool id, client id) used for the demo tokens


class ResourceBuilder:
    """Creates every supported resource of a template on a moto endpoint."""

    def __init__(self, template: Template, endpoint: str, local_dir: Path) -> None:
        self.template = template
        self.endpoint = endpoint
        self.local_dir = local_dir
        self.state_file = local_dir / "generated.json"
        self.state: dict[str, Any] = (
            json.loads(self.state_file.read_text(encoding="utf-8")) if self.state_file.exists() else {}
        )
        self.created = CreatedResources()

    def client(self, service: str) -> Any:
        return aws_client(service, self.endpoint)

    def _generated(self, key: str, make: Any) -> Any:
        """A generated value, persisted so that it survives restarts."""
        if key not in self.state:
            self.state[key] = make()
            write_private(self.state_file, json.dumps(self.state, indent=2))
        return self.state[key]

    def create_all(self) -> CreatedResources:
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self._tables()
        self._queues()
        self._parameters()
        self._secrets()
        self._kms_keys()
        self._email_identities()
        self._cognito()
        return self.created

    # ------------------------------------------------------------------ data

    def _tables(self) -> None:
        ddb = self.client("dynamodb")
        for logical_id in self.template.logical_ids("AWS::DynamoDB::Table"):
            kwargs = create_table_kwargs(self.template, logical_id)
            description = ddb.create_table(**kwargs)["TableDescription"]
            attrs = {"Arn": description["TableArn"]}
            if description.get("LatestStreamArn"):
                attrs["StreamArn"] = description["LatestStreamArn"]
            self.template.set_physical(logical_id, kwargs["TableName"], **attrs)
            ttl = table_ttl_attribute(self.template, logical_id)
            if ttl:
                ddb.update_time_to_live(
                    TableName=kwargs["TableName"],
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl},
                )
            self.created.tables[logical_id] = kwargs["TableName"]

    def _queues(self) -> None:
        """Queues with their properties as attributes; redrive policies once every queue exists."""
        sqs = self.client("sqs")
        redrive = {}
        for logical_id in self.template.logical_ids("AWS::SQS::Queue"):
            name = self.template.physical_name(logical_id)
            props = self.template.properties(logical_id)  # a dead-letter ARN resolves to moto's ARN of that name
            attributes = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in props.items()
                          if k != "RedrivePolicy"}
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.template.set_physical(logical_id, url, Arn=arn, QueueName=name)
            self.created.queues[logical_id] = url
            if "RedrivePolicy" in props:
                redrive[url] = props["RedrivePolicy"]
        for url, policy in redrive.items():
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(policy)})

    # ------------------------------------------------------------------ settings and secrets

    def _parameters(self) -> None:
        ssm = self.client("ssm")
        for logical_id in self.template.logical_ids("AWS::SSM::Parameter"):
            props = self.template.properties(logical_id)
            name = str(props.get("Name") or self.template.physical_name(logical_id))
            value = str(props.get("Value", ""))
            if "pepper" in f"{logical_id} {name}".lower() or value.lower().startswith("change-me"):
                value = self._generated(f"ssm:{logical_id}", lambda: secrets.token_urlsafe(48))
                if "pepper" in f"{logical_id} {name}".lower():
                    write_private(self.local_dir / "pepper", value)
            ssm.put_parameter(Name=name, Value=value, Type=str(props.get("Type", "String")), Overwrite=True)
            self.template.set_physical(logical_id, name)
            self.created.parameters[logical_id] = name

    @staticmethod
    def _secret_value(props: dict[str, Any]) -> str:
        spec = props["GenerateSecretString"]
        if "secrets" in json.loads(spec.get("SecretStringTemplate") or "{}"):
            # Standard Webhooks signing secrets: {"secrets": ["whsec_<base64 of 32 bytes>"]}
            return json.dumps({"secrets": ["whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()]})
        generated = _random_string(int(spec.get("PasswordLength", 32)))
        if "SecretStringTemplate" not in spec:
            return generated
        # As CloudFormation does: the template's JSON with GenerateStringKey set to the generated string.
        return json.dumps({**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: generated})

    def _secrets(self) -> None:
        sm = self.client("secretsmanager")
        for logical_id in self.template.logical_ids("AWS::SecretsManager::Secret"):
            props = self.template.properties(logical_id)
            name = str(props.get("Name") or self.template.physical_name(logical_id))
            value = self._generated(f"secret:{logical_id}", lambda p=props: self._secret_value(p))
            arn = sm.create_secret(Name=name, SecretString=value, Description=str(props.get("Description", "")))["ARN"]
            self.template.set_physical(logical_id, arn, Id=arn)
            self.created.secrets[logical_id] = arn
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                continue
            if self.created.webhook_secret is None and isinstance(parsed, dict) and parsed.get("secrets"):
                self.created.webhook_secret = str(parsed["secrets"][0])
                write_private(self.local_dir / "webhook-secret", self.created.webhook_secret)

    def _kms_keys(self) -> None:
        """The template's KMS keys, with their key policies (moto enforces only a policy's Deny statements).
        moto keeps no key across a restart: data encrypted before one does not decrypt after it."""
        kms = self.client("kms")
        for logical_id in self.template.logical_ids("AWS::KMS::Key"):
            props = self.template.properties(logical_id)
            meta = kms.create_key(Description=str(props.get("Description", "")),
                                  Policy=json.dumps(props["KeyPolicy"]))["KeyMetadata"]
            self.template.set_physical(logical_id, meta["KeyId"], Arn=meta["Arn"], KeyId=meta["KeyId"])

    def _email_identities(self) -> None:
        ses = self.client("ses")
        for logical_id in self.template.logical_ids("AWS::SES::EmailIdentity"):
            identity = str(self.template.properties(logical_id)["EmailIdentity"])
            if "@" in identity:
                ses.verify_email_identity(EmailAddress=identity)
            else:
                ses.verify_domain_identity(Domain=identity)
            self.template.set_physical(logical_id, identity)
        for logical_id in self.template.logical_ids("AWS::SES::ConfigurationSet"):
            name = self.template.physical_name(logical_id)
            ses.create_configuration_set(ConfigurationSet={"Name": name})
            self.template.set_physical(logical_id, name)

    # ------------------------------------------------------------------ Cognito

    def _cognito(self) -> None:
        idp = self.client("cognito-idp")
        self._user_pools(idp)
        self._groups_and_users(idp)
        if self.created.token_client is not None:
            self._demo_users(idp, self.created.token_client[0])

    def _user_pools(self, idp: Any) -> None:
        """Pools and their clients, with the properties the template sets that moto's API takes."""
        for logical_id in self.template.logical_ids("AWS::Cognito::UserPool"):
            props = self.template.properties(logical_id)
            kwargs = {k: props[k] for k in _POOL_KEYS if k in props}
            pool = idp.create_user_pool(PoolName=self.template.physical_name(logical_id), **kwargs)["UserPool"]
            self.template.set_physical(logical_id, pool["Id"], Arn=pool["Arn"])
            self.created.user_pools[logical_id] = pool["Id"]
        for logical_id in self.template.logical_ids("AWS::Cognito::UserPoolClient"):
            props = self.template.properties(logical_id)
            kwargs = {k: props[k] for k in _CLIENT_KEYS if k in props}
            client = idp.create_user_pool_client(
                UserPoolId=props["UserPoolId"], ClientName=props.get("ClientName", logical_id), **kwargs
            )["UserPoolClient"]
            self.template.set_physical(logical_id, client["ClientId"])
            self.created.clients[logical_id] = client["ClientId"]
            if self.created.token_client is None:
                self.created.token_client = (props["UserPoolId"], client["ClientId"])

    def _groups_and_users(self, idp: Any) -> None:
        for logical_id in self.template.logical_ids("AWS::Cognito::UserPoolGroup"):
            props = self.template.properties(logical_id)
            name = str(props.get("GroupName") or self.template.physical_name(logical_id))
            extra = {k: props[k] for k in ("Description", "Precedence") if k in props}
            idp.create_group(UserPoolId=props["UserPoolId"], GroupName=name, **extra)
            self.template.set_physical(logical_id, name)
        for logical_id in self.template.logical_ids("AWS::Cognito::UserPoolUser"):
            props = self.template.properties(logical_id)
            self._create_user(idp, props["UserPoolId"], str(props["Username"]), props.get("UserAttributes") or [])
            self.template.set_physical(logical_id, str(props["Username"]))
        for logical_id in self.template.logical_ids("AWS::Cognito::UserPoolUserToGroupAttachment"):
            props = self.template.properties(logical_id)
            idp.admin_add_user_to_group(
                UserPoolId=props["UserPoolId"], Username=props["Username"], GroupName=props["GroupName"]
            )

    def _create_user(self, idp: Any, pool_id: str, username: str, attributes: list[dict[str, str]]) -> None:
        try:
            idp.admin_get_user(UserPoolId=pool_id, Username=username)
            return
        except idp.exceptions.UserNotFoundException:
            pass
        if "@" in username and not any(a["Name"] == "email" for a in attributes):
            attributes = [
                *attributes,
                {"Name": "email", "Value": username},
                {"Name": "email_verified", "Value": "true"},
            ]
        idp.admin_create_user(
            UserPoolId=pool_id, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=DEMO_PASSWORD, Permanent=True)

    def _demo_users(self, idp: Any, pool_id: str) -> None:
        """The demo staff and viewer users in the template's groups of those names (the admin is the template's)."""
        for role, (email, group) in DEMO_USERS.items():
            if role != "admin":
                self._create_user(idp, pool_id, email, [])
                idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
        self.refresh_tokens()

    def refresh_tokens(self) -> dict[str, str]:
        """Sign the demo users in again and rewrite `.local/staff-token` / `.local/viewer-token`."""
        if self.created.token_client is None:
            return {}
        idp = self.client("cognito-idp")
        pool_id, client_id = self.created.token_client
        for role, (email, _) in DEMO_USERS.items():
            try:
                idp.admin_get_user(UserPoolId=pool_id, Username=email)
            except idp.exceptions.UserNotFoundException:
                continue
            auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",  # the client allows it
                                     AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD})
            token = auth["AuthenticationResult"]["IdToken"]
            self.created.tokens[role] = token
            write_private(self.local_dir / f"{role}-token", token)
        return dict(self.created.tokens)
