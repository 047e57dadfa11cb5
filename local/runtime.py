"""Run template functions like Lambda: one warm worker process per concurrent invocation.

Each function gets a small pool (`max_concurrency` workers, started lazily). A worker imports the handler
module once (cold start) with `sys.path = [CodeUri, *layer dirs]` and the function's environment plus the
local AWS settings, then serves invocations over a JSON-lines pipe (see `local/_worker.py`). A handler
exception or timeout becomes an error result, never a crash of the stack.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local.template import REGION, Function

log = logging.getLogger("local.runtime")

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
INIT_TIMEOUT_S = 30.0


def lambda_environment(
    function: Function, aws_endpoint: str | None, credentials: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a worker sees: the function's variables plus what the Lambda service sets.

    `credentials` (AccessKeyId, SecretAccessKey, SessionToken) are the function role's, as Lambda gives them;
    without them the worker signs with moto's catch-all `testing` keys.
    """
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.defpath]),  # no host PATH, like Lambda
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        "LAMBDA_TASK_ROOT": str(function.code_uri),
        "_HANDLER": function.handler,
        **function.env,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
    }
    if credentials:
        env["AWS_ACCESS_KEY_ID"] = credentials["AccessKeyId"]
        env["AWS_SECRET_ACCESS_KEY"] = credentials["SecretAccessKey"]
        env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    if aws_endpoint:
        env["AWS_ENDPOINT_URL"] = aws_endpoint
    return env


@dataclass
class InvokeResult:
    """What an invocation returned: `payload` on success, or a Lambda-style `error` dict."""

    function_id: str
    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    cold_start: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict[str, Any]:
        return {
            "function": self.function_id,
            "request_id": self.request_id,
            "ok": self.ok,
            "payload": self.payload,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
        }


class _Worker:
    """One worker process and the threads that read its protocol and log pipes."""

    _ids = itertools.count(1)

    def __init__(
        self, function: Function, env: Mapping[str, str], on_calls: Callable[[str, list[Any]], None] | None = None
    ) -> None:
        self.function = function
        self.on_calls = on_calls
        self.index = next(self._ids)
        paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-I", "-u", str(WORKER_SCRIPT), function.handler, *paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=str(function.code_uri) if function.code_uri.is_dir() else None,
            text=True,
            encoding="utf-8",
        )
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read_replies, daemon=True, name=f"{function.logical_id}-out").start()
        threading.Thread(target=self._relay_logs, daemon=True, name=f"{function.logical_id}-err").start()
        self.init_error: dict[str, Any] | None = None
        self.used = False

    def _read_replies(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s: unexpected worker output %r", self.function.logical_id, line)
                continue
            calls = message.pop("aws_calls", None)
            if calls and self.on_calls is not None:
                try:
                    self.on_calls(self.function.logical_id, calls)
                except Exception:  # the recorder must never break an invocation
                    log.exception("%s: could not record AWS calls", self.function.logical_id)
            self.replies.put(message)
        self.replies.put(None)

    def _relay_logs(self) -> None:
        stream: IO[str] | None = self.proc.stderr
        assert stream is not None
        prefix = f"[{self.function.logical_id}] "
        for line in stream:
            sys.stderr.write(prefix + line)
        sys.stderr.flush()

    def wait_ready(self) -> None:
        reply = self._next(INIT_TIMEOUT_S)
        if reply is None:
            raise RuntimeError(f"worker for {self.function.logical_id} exited during init")
        self.init_error = reply.get("error")

    def _next(self, timeout: float) -> dict[str, Any] | None:
        return self.replies.get(timeout=timeout)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def invoke(self, event: Any, request_id: str, timeout_s: float) -> tuple[dict[str, Any] | None, bool]:
        """Send one event; returns (reply or None if the worker died, timed_out)."""
        assert self.proc.stdin is not None
        context = {
            "function_name": self.function.name,
            "invoked_function_arn": self.function.arn,
            "memory_limit_in_mb": self.function.memory_mb,
            "aws_request_id": request_id,
            "deadline_ms": time.time() * 1000 + timeout_s * 1000,
        }
        self.proc.stdin.write(json.dumps({"id": request_id, "event": event, "context": context}) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                reply = self._next(max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                return None, True
            if reply is None or reply.get("id") == request_id:
                return reply, False

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill() does not fail in practice
            log.warning("worker %s did not exit", self.proc.pid)

    def close_stdin(self) -> None:
        """Ask the worker to exit (EOF on its request pipe)."""
        if self.alive and self.proc.stdin is not None:
            with contextlib.suppress(OSError):  # already gone
                self.proc.stdin.close()


@dataclass
class _Pool:
    function: Function
    env: dict[str, str]
    max_concurrency: int
    idle: list[_Worker] = field(default_factory=list)
    all: list[_Worker] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = threading.BoundedSemaphore(self.max_concurrency)


class Runtime:
    """Invokes the template's functions in worker processes.

    `credentials` (by logical id) are each function role's; `record_calls` (region, account, hash_keys) makes
    the workers report their AWS calls to `on_calls(function_id, calls)` (see `local/_worker.py`).
    """

    def __init__(
        self,
        functions: Mapping[str, Function],
        *,
        aws_endpoint: str | None,
        max_concurrency: int = 4,
        timeout_scale: float = 1.0,
        credentials: Mapping[str, Mapping[str, str]] | None = None,
        record_calls: Mapping[str, Any] | None = None,
        on_calls: Callable[[str, list[Any]], None] | None = None,
    ) -> None:
        self.functions = dict(functions)
        self.aws_endpoint = aws_endpoint
        self.timeout_scale = timeout_scale
        self.on_calls = on_calls
        self._pools: dict[str, _Pool] = {}
        for lid, fn in self.functions.items():
            env = lambda_environment(fn, aws_endpoint, (credentials or {}).get(lid))
            if record_calls is not None:
                env["LOCAL_IAM_RECORD"] = json.dumps(dict(record_calls))
            self._pools[lid] = _Pool(fn, env, max_concurrency)
        self._closed = False

    def invoke(self, function_id: str, event: Any) -> InvokeResult:
        """Invoke synchronously (RequestResponse); never raises for handler failures."""
        pool = self._pools[function_id]
        request_id = str(uuid.uuid4())
        with pool.slots:
            worker, cold = self._checkout(pool)
            started = time.monotonic()
            result = InvokeResult(function_id, request_id, cold_start=cold)
            if worker is None:
                result.error = {"errorType": "Runtime.ExitError", "errorMessage": "worker failed to start"}
                return result
            timeout_s = pool.function.timeout_s * self.timeout_scale
            reply, timed_out = worker.invoke(event, request_id, timeout_s)
            result.duration_ms = (time.monotonic() - started) * 1000
            if timed_out:
                result.timed_out = True
                result.error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {timeout_s:.2f} seconds",
                }
            elif reply is None:
                result.error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": "worker exited unexpectedly",
                }
            elif "error" in reply:
                result.error = reply["error"]
            else:
                result.payload = reply.get("result")
            self._checkin(pool, worker)
            return result

    def _checkout(self, pool: _Pool) -> tuple[_Worker | None, bool]:
        with pool.lock:
            while pool.idle:
                worker = pool.idle.pop()
                if worker.alive:
                    return worker, False
        try:
            worker = _Worker(pool.function, pool.env, self.on_calls)
            with pool.lock:
                pool.all.append(worker)
            worker.wait_ready()
        except (OSError, RuntimeError, queue.Empty) as exc:
            log.error("cannot start a worker for %s: %s", pool.function.logical_id, exc)
            return None, True
        return worker, True

    def _checkin(self, pool: _Pool, worker: _Worker) -> None:
        with pool.lock:
            if worker.alive and not self._closed:
                pool.idle.append(worker)
            else:
                worker.kill()
                if worker in pool.all:
                    pool.all.remove(worker)

    def worker_count(self, function_id: str) -> int:
        pool = self._pools[function_id]
        with pool.lock:
            return sum(1 for w in pool.all if w.alive)

    def close(self, grace_s: float = 0.3) -> None:
        """Stop every worker: EOF to all at once, then kill those still running after `grace_s`

        (workers hold no state worth a slow interpreter teardown; Lambda freezes and kills them too).
        """
        self._closed = True
        workers: list[_Worker] = []
        for pool in self._pools.values():
            with pool.lock:
                workers += pool.all
                pool.all, pool.idle = [], []
        for worker in workers:
            worker.close_stdin()
        deadline = time.monotonic() + grace_s
        for worker in workers:
            try:
                worker.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
