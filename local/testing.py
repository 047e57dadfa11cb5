"""Run `python -m local` in a subprocess for tests (e2e fixtures and tests/local).

The stack runs in its own process so that its moto state never mixes with tests that use `mock_aws`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpResult:
    """Status, headers (lower-case names; repeated headers joined with ", ") and raw body."""

    status: int
    headers: dict[str, str]
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, status: int, items: list[tuple[str, str]], body: bytes) -> HttpResult:
        headers: dict[str, str] = {}
        for key, value in items:
            key = key.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return cls(status, headers, body, [(k.lower(), v) for k, v in items])

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StackProcess:
    """A local stack in a subprocess; `start()` blocks until `/_local/health` answers 200."""

    local_dir: Path
    template: Path | None = None
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    #: The checkout whose `local` package and template run (another commit's tree for a before/after bench).
    root: Path = REPO_ROOT

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> StackProcess:
        env = {**os.environ, "PORT": str(self.port), "LOCAL_DIR": str(self.local_dir), **self.env}
        if self.template is not None:
            env["LOCAL_TEMPLATE"] = str(self.template)
        self.local_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path or self.local_dir / "stack.log"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "local"], cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local stack exited with {self.proc.returncode}; see {log_path}")
            try:
                if self.request("GET", "/_local/health", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"local stack not healthy after {timeout_s}s; see {log_path}")

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM (clean shutdown with a final snapshot), then kill if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=5)

    # ------------------------------------------------------------------ HTTP helpers

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> HttpResult:
        """One HTTP request to the stack (no redirects followed, errors returned, not raised)."""
        data: bytes | None
        headers = dict(headers or {})
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
            headers.setdefault("content-type", "application/json")
        else:
            data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)  # noqa: S310
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=timeout) as resp:
                return HttpResult.of(resp.status, resp.headers.items(), resp.read())
        except urllib.error.HTTPError as err:
            return HttpResult.of(err.code, err.headers.items(), err.read())

    def read_file(self, name: str) -> str:
        return (self.local_dir / name).read_text(encoding="utf-8").strip()

    @property
    def staff_token(self) -> str:
        return self.read_file("staff-token")

    @property
    def viewer_token(self) -> str:
        return self.read_file("viewer-token")

    @property
    def admin_token(self) -> str:
        return self.read_file("admin-token")

    @property
    def webhook_secret(self) -> str:
        return self.read_file("webhook-secret")

    def drain(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Wait until every stream consumer is idle; raises if it does not happen in time."""
        result = self.request("POST", f"/_local/streams/drain?timeout={timeout_s}", timeout=timeout_s + 10)
        if result.status != 200:
            raise TimeoutError(f"streams not drained: {result.body.decode()}")
        return result.json()  # type: ignore[no-any-return]

    def outbox(self) -> list[dict[str, Any]]:
        return self.request("GET", "/_local/outbox").json()  # type: ignore[no-any-return]

    def tick(self) -> list[dict[str, Any]]:
        return self.request("POST", "/_local/tick").json()["ran"]  # type: ignore[no-any-return]

    def info(self) -> dict[str, Any]:
        return self.request("GET", "/_local/info").json()  # type: ignore[no-any-return]

    def aws(self, service: str) -> Any:
        """A boto3 client on the stack's moto server."""
        from local.resources import aws_client

        return aws_client(service, self.info()["aws_endpoint"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
