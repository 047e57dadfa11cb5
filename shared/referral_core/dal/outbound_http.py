"""POSTs to addresses staff registered (outbound webhooks), safe against being pointed inside the network.

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


@dataclass(frozen=True)
class Answer:
    """The subscriber's HTTP status, or why there was none (``error``: a short code, never a message)."""

    status: int | None = None
    error: str | None = None
    #: The answer's body (at most 64 KiB) and its ``Retry-After`` header, for the API clients that read them.
    body: bytes = b""
    retry_after: str | None = None

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


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float = 5.0,
         allow_private: bool = False) -> Answer:
    return request("POST", url, body, headers, timeout_s=timeout_s, allow_private=allow_private)


def request(method: str, url: str, body: bytes | None, headers: dict[str, str], *, timeout_s: float = 5.0,
            allow_private: bool = False) -> Answer:
    """One request, checked and pinned as :func:`post` is (a provider's API: GET a record, POST GraphQL)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError):
        return Answer(error="dns")
    if not addresses:
        return Answer(error="dns")
    if not allow_private and not all(is_public(a) for a in addresses):
        return Answer(error="private_address")
    kind = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = kind(host, port, addresses[0], timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return Answer(status=answer.status, body=answer.read(MAX_ANSWER_BYTES),
                      retry_after=answer.getheader("Retry-After"))
    except TimeoutError:
        return Answer(error="timeout")
    except ConnectionRefusedError:
        return Answer(error="refused")
    except ssl.SSLError:
        return Answer(error="tls")
    except (OSError, http.client.HTTPException):
        return Answer(error="network")
    finally:
        connection.close()
