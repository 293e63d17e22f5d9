"""Which addresses a feed request may reach: the fetch stage's guard against SSRF.

The operator writes a feed's URL, but where it redirects and what its host name resolves to
are up to whoever runs that server or its DNS. Unchecked, a public feed that answers
`302 Location: http://127.0.0.1/admin/`, or whose name resolves to 169.254.169.254, makes the
service fetch an internal page and publish it to chats. So:

- every hop is checked, the configured URL and each redirect: a redirect may only lead to
  http(s) (never to `file:`), a host written as an IP address must be public, and `localhost`
  is refused;
- a host name is checked after resolution, by the resolver that the connection then uses
  (`policywire.ingest.fetch`): the connection goes to exactly the addresses checked, so a
  second DNS answer (rebinding) cannot slip in between;
- except the host the configured URL itself names literally, an IP address or `localhost`:
  the operator wrote it, so that feed may reach it on every hop;
- and except everything when `settings.allow_private_networks: true`.

Pure functions over `ipaddress`, no I/O: `check` uses them too (`config_problem`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = [
    "Address",
    "AddressPolicy",
    "BlockedAddressError",
    "Origin",
    "config_problem",
    "describe",
    "host_address",
    "is_localhost",
    "refusal",
]

Address = IPv4Address | IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254")
)
# DNS64 writes an IPv4 address into this prefix for IPv6-only hosts: judge the IPv4 inside.
_NAT64 = IPv6Network("64:ff9b::/96")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL = re.compile(r"0[0-7]+")
_DECIMAL = re.compile(r"[1-9][0-9]*|0")


def host_address(host: str) -> Address | None:
    """The IP address a URL's host stands for, None for a host name.

    Besides the usual spellings this reads the ones that C resolvers also accept and that are
    used to slip past naive checks: `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`.
    """
    text = host.strip().removeprefix("[").removesuffix("]")
    text = text[:-1] if text.endswith(".") else text
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return _legacy_ipv4(text)


def canonical(host: str) -> bool:
    """True when an IP host is spelled the plain way (`127.0.0.1`, `::1`), not `0x7f000001`,
    a trailing dot or an IPv4 address dressed as IPv6 (`::ffff:127.0.0.1`)."""
    text = host.strip().removeprefix("[").removesuffix("]")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return _embedded_ipv4(address) is None


def is_localhost(host: str) -> bool:
    """`localhost` and the names under it, which resolvers answer with a loopback address."""
    name = host.strip().rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def refusal(address: Address) -> str | None:
    """Why a feed request may not go to `address` ("a loopback address"); None when public."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return refusal(inner)
    if address in METADATA_ADDRESSES:
        return "the cloud metadata address"
    kinds = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved or not address.is_global, "a reserved address"),
    )
    return next((reason for applies, reason in kinds if applies), None)


def describe(host: str, address: Address) -> str:
    """`127.0.0.1`, or `0x7f000001 (127.0.0.1)` when the host spells it another way."""
    plain = str(_embedded_ipv4(address) or address)
    return plain if host.strip("[]") == plain else f"{host} ({plain})"


class BlockedAddressError(OSError):
    """A host name resolved only to addresses the policy refuses (raised by the resolver)."""

    def __init__(self, host: str, address: Address, reason: str) -> None:
        super().__init__(f"{host} resolves to {address}, {reason}")
        self.host, self.address, self.reason = host, address, reason


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The address rule in force: `allow_private` is `settings.allow_private_networks`.

    `public` lists networks to treat as public although they are not: tests stand a
    loopback server in for a host on the Internet that way. Nothing in the configuration
    sets it.
    """

    allow_private: bool = False
    public: tuple[IPv4Network | IPv6Network, ...] = ()

    def refusal(self, address: Address) -> str | None:
        if self.allow_private or any(address in network for network in self.public):
            return None
        return refusal(address)


@dataclass(frozen=True, slots=True)
class Origin:
    """What the configured URL allows: the host it names literally, if it names one so."""

    literal: Address | None = None  # an IP address written in the URL
    localhost: bool = False  # the URL says `localhost`

    @classmethod
    def of(cls, host: str) -> Origin:
        if is_localhost(host):
            return cls(localhost=True)
        if canonical(host):  # an odd spelling is not taken as the operator's intent
            return cls(literal=host_address(host))
        return cls()

    def allows(self, host: str) -> bool:
        """True for the very host the operator wrote (an address or `localhost`)."""
        if is_localhost(host):
            return self.localhost
        return self.literal is not None and host_address(host) == self.literal

    def hop_problem(self, host: str, policy: AddressPolicy, *, redirected: bool) -> str | None:
        """Why this hop's host is refused before any connection, or None to go on (a host
        name is still checked after resolution)."""
        if self.allows(host):
            return None
        where = "redirected to " if redirected else ""
        if is_localhost(host):
            return None if policy.allow_private else f"{where}{host}, a loopback name: refused"
        address = host_address(host)
        reason = None if address is None else policy.refusal(address)
        if address is None or reason is None:
            return None
        return f"{where}{describe(host, address)}, {reason}: refused"


def config_problem(host: str, allow_private: bool) -> str | None:
    """What `check` says about the host of a feed URL in feeds.yaml, None when it is fine.

    Loopback and private addresses written plainly (`127.0.0.1`, `10.0.0.1`, `[::1]`) and
    `localhost` are the operator's choice and pass. An address spelled to look like something
    else (`0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`) is refused whatever it stands
    for: write it plainly. Addresses no feed is served from (cloud metadata, other link-local,
    multicast, unspecified, reserved) are refused unless `allow_private_networks` is true.
    """
    address = host_address(host)
    if address is None:
        return None
    if not canonical(host):
        plain = _embedded_ipv4(address) or address
        shown = f"[{plain}]" if plain.version == 6 else str(plain)
        return f"the address {host} is written in an unusual form; write it as {shown}"
    reason = refusal(address)
    if reason is None or allow_private or reason in ("a loopback address", "a private address"):
        return None
    return (
        f"{address} is {reason}, where no feed is served; refused "
        "(set settings.allow_private_networks: true if this one is)"
    )


def _embedded_ipv4(address: Address) -> IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 IPv6 address."""
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _legacy_ipv4(text: str) -> IPv4Address | None:
    """inet_aton's forms: one to four parts, each decimal, octal (0…) or hex (0x…); the last
    part fills the bytes that are left (`127.1` is 127.0.0.1, `2130706433` too)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_inet_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *head, last = [number for number in numbers if number is not None]
    if any(number > 0xFF for number in head) or last >= 1 << (8 * (5 - len(parts))):
        return None
    value = last
    for index, number in enumerate(head):
        value |= number << (8 * (3 - index))
    return IPv4Address(value)


def _inet_number(part: str) -> int | None:
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part)
    return None
