"""POSTs to addresses staff registered (outbound webhooks), and requests to a job system's API (the
adapters: an invoice, a token refresh), safe against being pointed inside the network.

The host is resolved once, every address it resolves to must be public (unless the deployment allows
private targets, as the local stack does), and the connection goes to that checked address while TLS
still verifies the certificate for the name: a DNS answer that changes between the check and the
connect (DNS rebinding) cannot reach 169.254.169.254 or the VPC. Redirects are not followed, the answer
is read to at most 64 KiB and never kept.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_ANSWER_BYTES = 64 * 1024
#: A provider API's answer (one invoice) read into memory at most.
MAX_API_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """The subscriber's HTTP status, or why there was none (``error``: a short code, never a message)."""

    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _addresses(host: str, port: int) -> list[str]:
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


@dataclass(frozen=True)
class Reply:
    """An API's answer (``request``): status, the headers a client acts on, and the body (bounded)."""

    status: int | None = None
    body: bytes = b""
    retry_after: str | None = None
    error: str | None = None


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float = 5.0,
         allow_private: bool = False) -> Answer:
    reply = request("POST", url, body, headers, timeout_s=timeout_s, allow_private=allow_private, keep=0)
    return Answer(status=reply.status, error=reply.error)


def request(method: str, url: str, body: bytes | None, headers: dict[str, str], *, timeout_s: float = 5.0,
            allow_private: bool = False, keep: int = MAX_API_ANSWER_BYTES) -> Reply:
    """One request to a provider's API (the same address checks as ``post``); the body read up to ``keep``
    bytes is returned (a larger answer is an ``error``), redirects are not followed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError):
        return Reply(error="dns")
    if not addresses:
        return Reply(error="dns")
    if not allow_private and not all(is_public(a) for a in addresses):
        return Reply(error="private_address")
    kind = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = kind(host, port, addresses[0], timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        if not keep:
            answer.read(MAX_ANSWER_BYTES)
            return Reply(status=answer.status)
        content = answer.read(keep + 1)
        if len(content) > keep:
            return Reply(status=answer.status, error="too_large")
        return Reply(status=answer.status, body=content, retry_after=answer.getheader("Retry-After"))
    except TimeoutError:
        return Reply(error="timeout")
    except ConnectionRefusedError:
        return Reply(error="refused")
    except ssl.SSLError:
        return Reply(error="tls")
    except (OSError, http.client.HTTPException):
        return Reply(error="network")
    finally:
        connection.close()
