"""`python -m local` (what `make run` calls): serve template.yaml on http://127.0.0.1:${PORT:-3000}."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from local.stack import LocalStack, StackSettings


def banner(stack: LocalStack) -> str:
    """What a developer needs to start clicking around."""
    base = stack.base_url
    local_dir = stack.local_dir
    resources = stack.resources
    token = resources.tokens.get("staff") if resources else None
    lines = [
        "",
        f"Local stack ready on {base}  (AWS services on moto at {stack.aws_endpoint})",
        "",
        f"  Quick Help       {base}/quick-help",
        f"  Referral link    {base}/r/{{code}}",
        f"  Staff API        {base}/admin/...  (Authorization: Bearer <staff token>)",
        f"  API docs         {base}/docs",
        f"  Sent emails      {base}/_local/outbox",
        f"  Run schedules    curl -X POST {base}/_local/tick",
        f"  Stream status    {base}/_local/streams   (POST {base}/_local/streams/drain waits until idle)",
        "",
        "  Routes from template.yaml:",
    ]
    if stack.template is not None:
        for route in stack.template.routes():
            auth = f"  [{route.authorizer}]" if route.authorizer else ""
            lines.append(f"    {route.route_key:<40} -> {route.function_id}{auth}")
    lines += [
        "",
        f"  Staff token      {local_dir / 'staff-token'}  (staff@example.com, group staff)",
        f"  Viewer token     {local_dir / 'viewer-token'}  (viewer@example.com, no group)",
        "  Demo password    Local-Passw0rd-123",
        f"  Webhook secret   {local_dir / 'webhook-secret'}",
        f"  Local data       {local_dir}  (delete it to start afresh)",
        "",
    ]
    if token:
        lines += ["  Staff bearer token (valid 1 h, refreshed in the file every 30 min):", f"  {token}", ""]
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = StackSettings.from_env()
    stack = LocalStack(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        print(banner(stack), flush=True)
        stop.wait()
    finally:
        print("Stopping the local stack...", file=sys.stderr, flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is saved and stopped by now. Skip the interpreter's teardown of moto's many modules and
    # objects, which takes seconds and would make every restart (and test fixture) that much slower.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
