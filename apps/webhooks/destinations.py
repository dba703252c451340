"""Where a webhook may go: http(s) URLs whose host resolves only to public addresses.

The check runs at registration and again at send time, and the sender connects to the
address checked here (no second DNS lookup an attacker could answer differently).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeDestination(ValueError):
    """The URL is not one the portal will send to."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query
    address: str  # the resolved IP to connect to

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


V6 = ipaddress.IPv6Network
# IPv6 ranges that carry an IPv4 address in their low 32 bits.
_IPV4_MAPPED = V6("::ffff:0:0/96")  # how an IPv4 peer looks on an IPv6 socket
_IPV4_TRANSLATED = V6("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_IPV4_COMPATIBLE = V6("::/96")  # RFC 4291, deprecated
_NAT64 = V6("64:ff9b::/96")  # RFC 6052 well-known prefix (DNS64 networks answer with it)
_NAT64_LOCAL = V6("64:ff9b:1::/48")  # RFC 8215, local use
_LOW_32_BITS = (_IPV4_MAPPED, _IPV4_TRANSLATED, _IPV4_COMPATIBLE, _NAT64, _NAT64_LOCAL)
# Transition forms nothing legitimate resolves to for a webhook: refused whatever they carry.
_DEPRECATED = (_IPV4_TRANSLATED, _IPV4_COMPATIBLE, _NAT64_LOCAL, V6("2001::/32"))  # the last: Teredo
# Not globally reachable per IANA's special-purpose registry, where this Python's is_global lags.
_NOT_GLOBAL = (
    V6("5f00::/16"),  # SRv6 SIDs
    V6("3fff::/20"),  # documentation (2024)
    V6("2001:db8::/32"),  # documentation
    V6("fec0::/10"),  # site-local, deprecated
    V6("100::/64"),  # discard-only
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries: mapped, translated, compatible, NAT64, 6to4
    and both of Teredo's (server and client)."""
    found = []
    if any(ip in network for network in _LOW_32_BITS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.extend(ip.teredo)
    return found


def _is_public_ipv4(ip: ipaddress.IPv4Address) -> bool:
    # is_global excludes private, loopback, link-local (169.254.169.254 metadata too), shared
    # (100.64/10), reserved and this-network ranges.
    return ip.is_global and not ip.is_multicast


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _is_public_ipv4(ip)
    embedded = _embedded_ipv4(ip)
    if any(not _is_public_ipv4(inner) for inner in embedded):
        return False  # [::127.0.0.1], [::ffff:0:7f00:1], [64:ff9b:1::a00:1], 6to4 of 10/8, ...
    if any(ip in network for network in _DEPRECATED + _NOT_GLOBAL):
        return False
    if ip in _IPV4_MAPPED or ip in _NAT64:
        # Python files these under "not global" as ranges; what they reach is the IPv4 inside.
        return bool(embedded)
    # is_global also excludes loopback, link-local, unique-local (fd00:ec2::254) and documentation.
    return ip.is_global and not ip.is_multicast


def destination_precheck(url: str) -> str:
    """The check for a per-object notification URL given at creation (notificationUrl, callback).

    Like destination_check, except that a host which does not resolve yet is accepted: the
    integrator may set up its DNS after creating the object, and every send checks again.
    Literal private addresses, and names resolving to them, are refused now.
    """
    try:
        destination_check(url)
    except UnsafeDestination as exc:
        if "does not resolve" not in str(exc):
            raise
    return url


def destination_check(url: str, *, allow_private: bool | None = None, require_https: bool | None = None) -> Destination:
    """Parse and resolve `url`; raise UnsafeDestination unless it may receive webhooks."""
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS if allow_private is None else allow_private
    require_https = getattr(settings, "WEBHOOKS_REQUIRE_HTTPS", False) if require_https is None else require_https
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination("Only http and https URLs can receive webhooks.")
    if require_https and parts.scheme != "https":
        raise UnsafeDestination("Webhook URLs must use https.")
    if not parts.hostname:
        raise UnsafeDestination("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeDestination("Credentials in the URL are not allowed; use the signature to authenticate.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeDestination(f"The host {parts.hostname} does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        blocked = [a for a in addresses if not _is_public(a)]
        if blocked:
            raise UnsafeDestination(
                f"The host {parts.hostname} resolves to a private, loopback, link-local or reserved address."
            )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, parts.hostname, port, target, addresses[0])
