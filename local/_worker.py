"""Lambda-like worker process: imports one handler once, then serves invocations over JSON lines.

Run as a script (`python -I local/_worker.py <handler> <dir>...`): the directories become sys.path
(function code first, then layers). Requests arrive on stdin as `{"id", "event", "context"}`; each reply
is one line on the *original* stdout: `{"id", "result"}` or `{"id", "error"}`. The handler's own prints
and logs go to stderr, so they cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, TextIO


class LambdaContext:
    """The attributes of the Python Lambda runtime's context object that handlers use."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.function_name: str = info["function_name"]
        self.function_version: str = "$LATEST"
        self.invoked_function_arn: str = info["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(info["memory_limit_in_mb"])
        self.aws_request_id: str = info["aws_request_id"]
        self.log_group_name: str = f"/aws/lambda/{self.function_name}"
        self.log_stream_name: str = "local"
        self.identity = None
        self.client_context = None
        self._deadline_ms: float = float(info["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_exception(exc)[1:],
    }


def _send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # fd 1 (print, logging to stdout) now goes to stderr
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", buffering=1)
    handler_spec, *paths = sys.argv[1:]
    sys.path[:0] = paths
    module_name, func_name = handler_spec.rsplit(".", 1)
    init_error: dict[str, Any] | None = None
    handler: Any = None
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
    except Exception as exc:  # any import failure is reported like Lambda's Runtime.ImportModuleError
        traceback.print_exc()
        init_error = _error(exc, "Runtime.ImportModuleError")
    _send(protocol, {"ready": True, "error": init_error})
    for line in sys.stdin:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request["id"]}
        if init_error is not None:
            reply["error"] = init_error
        else:
            try:
                result = handler(request["event"], LambdaContext(request["context"]))
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
        _send(protocol, reply)


if __name__ == "__main__":
    main()
