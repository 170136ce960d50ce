"""Sending to a partner's URL without letting it reach inside our network (no SSRF).

- Only ``https`` in production (``http`` too in development, for a local receiver).
- The host is resolved, and every address it resolves to must be a public one: loopback,
  private, link-local (cloud metadata at 169.254.169.254 among them), shared, multicast,
  reserved and unspecified addresses are refused, at registration and again at every send;
  so are the IPv6 transition addresses that carry an IPv4 one inside (6to4, Teredo).
  ``WEBHOOKS_ALLOW_PRIVATE=true`` (development and tests only; production refuses to start
  with it) allows loopback and private addresses, never link-local or metadata ones.
- The send connects to the very address that was checked (``pinned``), with the URL's host
  name as the ``Host`` header and, for https, as the TLS server name and the name its
  certificate must carry: a DNS answer that changes between the check and the connection
  (rebinding) changes nothing.
- Redirects are never followed (a 3xx is a failed attempt), each send has a deadline, and
  no more than ``MAX_RESPONSE_BYTES`` of the answer are read (an answer longer than that
  closes the connection rather than be read to its end).
- A batch of sends to one endpoint shares one kept-alive connection (``Connection``), still
  to the one address checked for the batch.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

MAX_RESPONSE_BYTES = 16 * 1024
MAX_URL_LENGTH = 2048
# Addresses refused even when private ones are allowed: cloud metadata services.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


class UnsafeURL(ValueError):
    """The URL may not be called: the message says why (safe to show its owner)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``), and what to call it."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (tests replace this to play a DNS server)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


# IPv6 transition prefixes that carry an IPv4 address inside (6to4 2002::/16, Teredo
# 2001::/32): a relay on the way delivers them to that IPv4 address, loopback or private
# included, so they are refused always, as metadata addresses are (issue 25).
TRANSITION_NETWORKS = (ipaddress.ip_network("2002::/16"), ipaddress.ip_network("2001::/32"))


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool):
    if isinstance(address, ipaddress.IPv6Address) and any(
        address in network for network in TRANSITION_NETWORKS
    ):
        return "a 6to4 or Teredo address (an IPv4 address inside IPv6)"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES or address.is_link_local:
        return "a link-local or metadata address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if address.is_loopback or address.is_private or not address.is_global:
        return None if allow_private else "a private or loopback address"
    return None


def check_url(url: str, *, production: bool, allow_private: bool) -> Target:
    """Check a URL and the addresses its host resolves to now; the target to connect to."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL("The URL is too long.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL("Not a URL.") from error
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeURL("Only https URLs are allowed." if production else "Use https or http.")
    if parts.username or parts.password:
        raise UnsafeURL("A URL with a user name or password is not allowed.")
    host = parts.hostname
    if not host:
        raise UnsafeURL("The URL has no host.")
    if parts.fragment:
        raise UnsafeURL("A URL with a fragment is not allowed.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise UnsafeURL("The host name does not resolve.") from error
    if not addresses:
        raise UnsafeURL("The host name does not resolve.")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        reason = _refusal(address, allow_private)
        if reason is not None:
            raise UnsafeURL(f"The host resolves to {reason}, which is not allowed.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0].split("%")[0])


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str | None
    duration_ms: int


class Connection:
    """Sends to one checked address over one kept-alive connection (a pool of one pinned to
    ``target.address``): a batch of events to an endpoint costs one connect. A connection the
    receiver closed is opened again by the next send."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        host_header = target.host if ":" not in target.host else f"[{target.host}]"
        default_port = 443 if target.scheme == "https" else 80
        if target.port != default_port:
            host_header += f":{target.port}"
        self.host_header = host_header
        self.deadline = urllib3.Timeout(total=timeout, connect=min(timeout, 5.0))
        if target.scheme == "https":
            self.pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                target.address,
                target.port,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
                timeout=self.deadline,
                retries=False,
                maxsize=1,
            )
        else:
            self.pool = urllib3.HTTPConnectionPool(
                target.address, target.port, timeout=self.deadline, retries=False, maxsize=1
            )

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.pool.close()

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST to the checked address; never follows a redirect; reads a bounded answer."""
        started = time.monotonic()
        try:
            response = self.pool.urlopen(
                "POST",
                self.target.path,
                body=body,
                headers={**headers, "Host": self.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
                timeout=self.deadline,
            )
            try:
                response.read(MAX_RESPONSE_BYTES, decode_content=False)
                if response.read(1, decode_content=False):
                    response.close()  # more than we read: this connection is not used again
            finally:
                response.release_conn()
            error = None
            if 300 <= response.status < 400:
                error = "The receiver answered with a redirect, which is not followed."
            elif not 200 <= response.status < 300:
                error = f"The receiver answered {response.status}."
            return Answer(response.status, error, _ms(started))
        except urllib3.exceptions.HTTPError as failure:
            return Answer(None, _describe(failure), _ms(started))
        except OSError as failure:
            return Answer(None, f"Could not connect ({type(failure).__name__}).", _ms(started))


def send(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """One POST on a connection of its own."""
    with Connection(target, timeout) as connection:
        return connection.post(body, headers)


def _describe(failure: Exception) -> str:
    if isinstance(failure, urllib3.exceptions.TimeoutError):
        return "The receiver did not answer in time."
    if isinstance(failure, urllib3.exceptions.SSLError):
        return "The receiver's TLS certificate was not accepted."
    if isinstance(failure, urllib3.exceptions.NewConnectionError):
        return "Could not connect to the receiver."
    return f"The send failed ({type(failure).__name__})."


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
