"""Outbound HTTP only to allowed addresses (webhook deliveries).

An address is allowed when it is public (``ipaddress``' ``is_global``), or lies in one of
``WEBHOOK_ALLOWED_NETWORKS`` (CIDRs), or is private/loopback and ``WEBHOOK_ALLOW_PRIVATE`` is on.
Link-local addresses (cloud metadata services live there), unspecified and multicast addresses
are refused unless a configured network names them. A host name is allowed only when every
address it resolves to is.

``guarded_session()`` checks again when it connects, and connects to the address it checked
(not to a second lookup of the name), so a name that resolves elsewhere after the check
(DNS rebinding) cannot reach a refused address. It ignores proxy environment variables.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection


class DisallowedAddress(ValueError):
    """The URL's host is, or resolves to, an address outbound requests may not reach."""


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n.strip(), strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS if n.strip()]


def address_allowed(address: str) -> bool:
    """Whether an outbound request may connect to the IP ``address``."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _networks()):
        return True
    if ip.is_link_local or ip.is_unspecified or ip.is_multicast:
        return False
    if settings.WEBHOOK_ALLOW_PRIVATE and (ip.is_private or ip.is_loopback):
        return True
    return ip.is_global


def _resolve(host: str, port: int | None) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port or 0, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise socket.gaierror(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def allowed_addresses(host: str, port: int | None = None) -> list[str]:
    """The addresses of ``host``; DisallowedAddress when any of them is refused."""
    addresses = _resolve(host, port)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise DisallowedAddress(
            _("%(host)s resolves to %(address)s, which webhooks may not reach (see WEBHOOK_ALLOWED_NETWORKS "
              "and WEBHOOK_ALLOW_PRIVATE).") % {"host": host, "address": ", ".join(refused) or "-"}
        )
    return addresses


def url_check(url: str, *, require_resolution: bool = False) -> None:
    """Refuse a URL whose host is (or resolves to) a refused address.

    A host name that does not resolve now passes unless ``require_resolution``; the connection
    is checked again when a delivery is made.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise DisallowedAddress(_("The URL has no host."))
    try:
        allowed_addresses(host, parts.port)
    except socket.gaierror:
        if require_resolution:
            raise DisallowedAddress(_("%(host)s does not resolve.") % {"host": host}) from None


class _GuardedConnectionMixin:
    """Connect to an allowed address of the host, checked at connect time (TLS still verifies the name)."""

    def _new_conn(self) -> socket.socket:
        try:
            address = allowed_addresses(self._dns_host, self.port)[0]
        except (DisallowedAddress, socket.gaierror) as exc:
            raise NewConnectionError(self, str(exc)) from exc
        try:
            return urllib3_connection.create_connection(
                (address, self.port), self.timeout, source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool, "https": _GuardedHTTPSConnectionPool,
        }


def guarded_session() -> requests.Session:
    """A requests session that connects only to allowed addresses and ignores proxy settings."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
