"""A small fake of a provider's API (standard-library HTTP server on 127.0.0.1) for the id-only adapters'
tests: scripted answers per path, every request kept, so token refresh, 429 and 5xx paths are real HTTP."""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

#: An answer: (status, JSON body or None, headers).
Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        """The path without its query string (what answers are scripted by)."""
        return self.path.split("?", 1)[0]

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class FakeApi:
    base_url: str = ""
    #: Answers given once each, in order, before ``routes`` answers (per path).
    queued: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    routes: dict[str, Callable[[Seen], Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def then(self, path: str, *replies: Reply) -> None:
        self.queued[path].extend(replies)

    def answer(self, request: Seen) -> Reply:
        self.seen.append(request)
        if self.queued[request.route]:
            return self.queued[request.route].popleft()
        route = self.routes.get(request.route)
        return route(request) if route else (404, {"error": "not found"}, {})

    def calls(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.route == path]


@contextmanager
def serving() -> Iterator[FakeApi]:
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                           self.rfile.read(length))
            status, body, headers = api.answer(request)
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
