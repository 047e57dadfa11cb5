"""Names only a framework or protocol uses, for vulture (`make lint`, pyproject.toml's [tool.vulture]).

Routes, validators and fixtures are covered by `ignore_decorators` there; this file lists the rest, each
with who reads it. Anything else vulture reports is dead: delete it rather than adding it here.
"""

# ruff: noqa: B018, F821
# The Lambda context protocol (read by Powertools' logger and by handlers): local/_worker.py's LambdaContext,
# the one fake context (the local stack's workers, the tests and the benchmarks).
_.function_version
_.invoked_function_arn
_.memory_limit_in_mb
_.aws_request_id
_.log_group_name
_.log_stream_name
_.client_context
# Powertools' BasePartialProcessor hooks and attribute (referral_core/streams.py).
_._prepare
_._process_record
_._async_process_record
_.raise_on_entire_batch_failure
# Standard-library hooks: http.client's connect, urllib's redirect_request, http.server's do_GET, do_POST
# and log_message, a werkzeug Response's default_mimetype.
_.connect
_.redirect_request
_.do_GET
_.do_POST
_.log_message
_.default_mimetype
# local/aws_calls.py describes a call with the method named after its service (getattr(self, f"_{name}")).
_._dynamodb
_._ssm
_._secretsmanager
_._ses
_._events
_._cognito_idp
# Attributes of moto's objects the local stack sets (local/iam.py).
_.access_key_id
_.secret_access_key
_.request_count
# Dataclass fields read through dataclasses.asdict (ledger deltas; the local consumers' /_local/streams).
_.pending_cents
_.available_cents
_.held_cents
_.clawback_outstanding_cents
_.invocations
_.retries
# StrEnum members: a placement is looked up by value (``?p=van``), never by name.
_.VAN
_.YARD_SIGN
_.INVOICE
_.FLYER
_.BUSINESS_CARD
_.SOCIAL
_.SMS
_.WEBSITE
_.EVENT
# pytest: hook parameters and fixtures requested by parameter for their effect only.
_.exitstatus
_.no_scan
# The fixture template's handler (tests/local/fixtures/template.yaml names it).
_.record_all
# http.server dispatches on do_<METHOD> (tests/support/fake_provider_api.py).
_.do_GET
# localstripe's Store method, replaced so the e2e emulator keeps its store in memory
# (tests/support/localstripe_server.py; localstripe's own code calls it).
_.dump_to_disk
