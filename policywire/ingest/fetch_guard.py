"""Where a request may go: the resolver that keeps only allowed addresses, the check every
redirect hop passes before it is followed, and the messages for what was refused.

Part of `policywire.ingest.fetch` (see its docstring), apart so that fetch.py holds the
exchange itself; the address rules themselves are `policywire.ingest.netguard`'s.
`GuardedResolver` is public (fetch.py re-exports it), the rest is private to the fetch modules.
"""

from __future__ import annotations

import ipaddress
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from policywire.ingest.netguard import AddressPolicy, BlockedAddressError, Origin, is_localhost

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class GuardedResolver(AbstractResolver):
    """Resolves with `base`, then keeps only the addresses the policy allows.

    The connector connects to what this returns and caches it, so the addresses checked are
    the addresses used: a DNS answer that changes between a check and the connection (DNS
    rebinding) cannot happen. A name with no allowed address raises BlockedAddressError.
    `localhost` passes as resolved: the hop check refused it unless the operator wrote it.
    """

    def __init__(self, policy: AddressPolicy, base: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._base = base or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._base.resolve(host, port, family)
        if is_localhost(host):
            return found
        kept: list[ResolveResult] = []
        refused: BlockedAddressError | None = None
        for entry in found:
            address = ipaddress.ip_address(entry["host"])
            reason = self.policy.refusal(address)
            if reason is None:
                kept.append(entry)
            elif refused is None:
                refused = BlockedAddressError(host, address, reason)
        if kept or refused is None:
            return kept
        raise refused

    async def close(self) -> None:
        await self._base.close()


def _hop_problem(
    target: URL, origin: Origin, policy: AddressPolicy, *, redirected: bool
) -> str | None:
    if redirected and target.scheme not in ("http", "https"):
        # file: above all: a server must never make us read the local disk.
        return f"refused a redirect to a {target.scheme}: URL (only http and https are followed)"
    return origin.hop_problem(target.raw_host or "", policy, redirected=redirected)


def _redirect_target(response: aiohttp.ClientResponse) -> URL | None:
    """Where a 3xx sends us, made absolute; None when this response is the answer."""
    if response.status not in _REDIRECTS:
        return None
    location = response.headers.get("Location")
    if location is None:
        return None  # a 3xx without a Location is reported as an HTTP error
    try:
        target = URL(location)
    except ValueError:
        raise aiohttp.InvalidUrlRedirectClientError(location, "not a URL") from None
    return target if target.scheme else response.url.join(target)


def _blocked(error: BlockedAddressError, *, redirected: bool) -> str:
    if redirected:
        where = f"redirected to {error.host}, which resolves to {error.address}"
        return f"{where}, {error.reason}: refused"
    return (
        f"{error.host} resolves to {error.address}, {error.reason}: refused "
        "(settings.allow_private_networks: true allows it)"
    )
