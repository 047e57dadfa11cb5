"""Lambda-like worker process: imports one handler once, then serves invocations over JSON lines.

Run as a script (`python -I local/_worker.py <handler> <dir>...`): the directories become sys.path
(function code first, then layers). Requests arrive on stdin as `{"id", "event", "context"}`; each reply
is one line on the *original* stdout: `{"id", "result"}` or `{"id", "error"}`. The handler's own prints
and logs go to stderr, so they cannot corrupt the protocol.

With `LOCAL_IAM_RECORD` set (JSON: region, account, hash_keys; the stack sets it and the handler never sees
it), every AWS SDK call is described by `local/aws_calls.py` (a botocore `before-parameter-build` handler
added to every botocore session, installed only once the handler imports botocore) and the calls ride along
in the replies as `aws_calls` (those of the cold start in the ready message).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

_calls: list[dict[str, Any]] = []


@dataclass
class LambdaContext:
    """The attributes of the Python Lambda runtime's context object that handlers use: the one fake context
    (the workers build it from each request; tests and benchmarks with ``of``)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline_ms: float
    function_version: str = "$LATEST"
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    @classmethod
    def of(cls, function_name: str = "test", *, memory_limit_in_mb: int = 512, timeout_s: float = 10,
           aws_request_id: str | None = None) -> LambdaContext:
        """A context for an invocation starting now (defaults: the template's Globals, moto's account)."""
        return cls(function_name=function_name, memory_limit_in_mb=memory_limit_in_mb,
                   invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
                   aws_request_id=aws_request_id or str(uuid.uuid4()),
                   deadline_ms=time.time() * 1000 + timeout_s * 1000)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_exception(exc)[1:],
    }


def _send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _take_calls() -> list[dict[str, Any]]:
    out = _calls[:]
    del _calls[:]
    return out


class _AfterBotocoreHandlers(importlib.abc.MetaPathFinder):
    """Adds the recorder to `botocore.handlers.BUILTIN_HANDLERS` (what every new session registers) when, and
    only when, the handler's code imports botocore: no import cost for functions that never call AWS."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "botocore.handlers":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader: Any = spec.loader
        original = loader.exec_module
        hook = self.hook

        def exec_module(module: Any) -> None:
            original(module)
            module.BUILTIN_HANDLERS.append(("before-parameter-build", hook))

        loader.exec_module = exec_module
        return spec


def _install_recorder() -> None:
    raw = os.environ.pop("LOCAL_IAM_RECORD", None)
    if not raw:
        return
    config = json.loads(raw)
    spec = importlib.util.spec_from_file_location("_local_aws_calls", Path(__file__).with_name("aws_calls.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    describer = module.Describer(region=config["region"], account=config["account"],
                                 hash_keys=config.get("hash_keys") or {})

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        _calls.extend(r.as_json() for r in describer.describe(service, model.name, params))

    sys.meta_path.insert(0, _AfterBotocoreHandlers(hook))


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # fd 1 (print, logging to stdout) now goes to stderr
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", buffering=1)
    handler_spec, *paths = sys.argv[1:]
    sys.path[:0] = paths
    _install_recorder()
    module_name, func_name = handler_spec.rsplit(".", 1)
    init_error: dict[str, Any] | None = None
    handler: Any = None
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
    except Exception as exc:  # any import failure is reported like Lambda's Runtime.ImportModuleError
        traceback.print_exc()
        init_error = _error(exc, "Runtime.ImportModuleError")
    _send(protocol, {"ready": True, "error": init_error, "aws_calls": _take_calls()})
    for line in sys.stdin:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request["id"]}
        if init_error is not None:
            reply["error"] = init_error
        else:
            try:
                result = handler(request["event"], LambdaContext(**request["context"]))
                reply["result"] = json.loads(json.dumps(result))
            except TypeError as exc:
                if "not JSON serializable" in str(exc):
                    reply["error"] = _error(exc, "Runtime.MarshalError")
                else:
                    traceback.print_exc()
                    reply["error"] = _error(exc)
            except Exception as exc:
                traceback.print_exc()
                reply["error"] = _error(exc)
        sys.stdout.flush()
        reply["aws_calls"] = _take_calls()
        _send(protocol, reply)


if __name__ == "__main__":
    main()
