"""`python -m local` (what `make run` calls): serve template.yaml on http://127.0.0.1:${PORT:-3000}."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from local.resources import ADMIN_EMAIL, DEMO_PASSWORD, STAFF_EMAIL, STAFF_GROUP, VIEWER_EMAIL, VIEWER_GROUP
from local.stack import LocalStack, StackSettings

MAIN_ROUTES = (
    ("Quick Help", "GET", "/quick-help", ""),
    ("Referral link", "GET", "/r/{code}", ""),
    ("Staff console", "GET", "/admin", "  (sign in as a demo user below)"),
    ("Staff API", "POST", "/admin/referrers", "  (Authorization: Bearer <staff token>)"),
    ("API docs", "GET", "/docs", ""),
)


def banner(stack: LocalStack) -> str:
    """What a developer needs to start clicking around."""
    base = stack.base_url
    local_dir = stack.local_dir
    routes = list(stack.template.routes()) if stack.template is not None else []
    lines = ["", f"Local stack ready on {base}  (AWS services on moto at {stack.aws_endpoint})", ""]
    for label, _method, path, note in MAIN_ROUTES:
        shown = "/admin/..." if path.startswith("/admin/") else path
        lines.append(f"  {label:<16} {base}{shown}{note}")
    lines += [
        f"  Sent emails      {base}/_local/outbox",
        f"  Run schedules    curl -X POST {base}/_local/tick",
        f"  Streams          {base}/_local/streams  (curl -X POST {base}/_local/streams/drain waits until idle)",
        "",
        "  Routes from template.yaml:",
    ]
    for route in routes:
        auth = f"  [{route.authorizer}]" if route.authorizer else ""
        lines.append(f"    {route.route_key:<40} -> {route.function_id}{auth}")
    lines += [
        "",
        f"  Admin token      {local_dir / 'admin-token'}  ({ADMIN_EMAIL}, group admin)",
        f"  Staff token      {local_dir / 'staff-token'}  ({STAFF_EMAIL}, group {STAFF_GROUP})",
        f"  Viewer token     {local_dir / 'viewer-token'}  ({VIEWER_EMAIL}, group {VIEWER_GROUP})",
        f"  Demo password    {DEMO_PASSWORD}  (every demo user signs in to {base}/admin with it)",
        f"  Webhook secret   {local_dir / 'webhook-secret'}",
        f"  Local data       {local_dir}  (delete it to start afresh)",
        "",
    ]
    token = stack.resources.tokens.get("staff") if stack.resources else None
    if token:
        lines += ["  Staff bearer token (valid 1 h; the file is refreshed every 30 min):", f"  {token}", ""]
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = StackSettings.from_env()
    stack = LocalStack(settings)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        print(banner(stack), flush=True)
        # Wake up regularly: a signal delivered to another thread would not interrupt an endless wait.
        while not stop.wait(0.5):
            pass
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
