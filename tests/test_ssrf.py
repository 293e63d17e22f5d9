"""The address guard (policywire/ingest/netguard.py) and the fetcher that applies it.

The "Internet" in these tests is a real HTTP server on 127.0.0.2, which the fetcher is told
to treat as public (`AddressPolicy.public`), reached through names that a fake DNS resolver
answers. The internal service an attacker aims at is a FeedServer on 127.0.0.1: every test
that refuses a hop also checks that it never received a request.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from policywire.config.load import load_config
from policywire.errors import ConfigError
from policywire.ingest.fetch import Fetcher
from policywire.ingest.netguard import (
    AddressPolicy,
    Origin,
    config_problem,
    host_address,
    refusal,
)
from policywire.models import FetchStatus
from policywire.pipeline import fetcher_for
from tests.fakes.feed_server import FeedServer

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"
STAND_IN = "127.0.0.2"  # plays a host on the Internet
POLICY = AddressPolicy(public=(ip_network(f"{STAND_IN}/32"),))
TIMEOUT = 2.0
ONLY_HTTP = "(only http and https are followed)"
UNUSUAL = "is written in an unusual form; write it as"


class FakeDNS(AbstractResolver):
    """Answers from a table, as a DNS server would; counts the lookups."""

    def __init__(self, answers: Mapping[str, list[str]]) -> None:
        self.answers = dict(answers)
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        pass


class PublicSite:
    """A real aiohttp server on 127.0.0.2 whose routes answer with a fixed response."""

    def __init__(self, port: int = 0) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.port = port
        self._runner: web.AppRunner | None = None

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": location}, b"")

    def feed(self, path: str) -> None:
        self.routes[path] = (200, {"Content-Type": "application/rss+xml"}, RSS)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        status, headers, body = self.routes.get(request.path, (404, {}, b""))
        return web.Response(status=status, headers=headers, body=body)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, STAND_IN, self.port)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def internal() -> AsyncIterator[FeedServer]:
    """The service on loopback that a hostile feed would like us to read."""
    async with FeedServer() as server:
        server.add("/admin/", b"<rss><channel><title>SECRET</title></channel></rss>")
        yield server


@pytest.fixture
async def site() -> AsyncIterator[PublicSite]:
    async with PublicSite() as public:
        yield public


def dns() -> FakeDNS:
    return FakeDNS(
        {
            "news.example": [STAND_IN],
            "internal.example": ["127.0.0.1"],
            "intranet.example": ["10.1.2.3"],
            "both.example": ["127.0.0.1", STAND_IN],
        }
    )


def guarded(policy: AddressPolicy = POLICY, resolver: FakeDNS | None = None) -> Fetcher:
    return Fetcher(
        timeout=TIMEOUT,
        connect_timeout=TIMEOUT,
        address_policy=policy,
        resolver=resolver or dns(),
    )


# --- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "127.0.0.1.", "0x7f.1"],
)
def test_every_spelling_of_loopback_is_read_as_127_0_0_1(host: str) -> None:
    assert host_address(host) == IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    "host", ["news.example", "1e100.net", "0x7g000001", "08.0.0.1", "1.2.3.4.5", "256.1.1.1"]
)
def test_host_names_are_not_addresses(host: str) -> None:
    assert host_address(host) is None


def test_an_ipv6_literal_in_brackets_is_an_address() -> None:
    assert host_address("[::1]") == IPv6Address("::1")
    assert host_address("[::ffff:127.0.0.1]") == IPv6Address("::ffff:7f00:1")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("192.168.1.5", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "the cloud metadata address"),
        ("fd00:ec2::254", "the cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
        ("240.0.0.1", "a private address"),  # the stdlib counts 240/4 as private too
        ("100.64.0.1", "a reserved address"),  # carrier-grade NAT: not on the Internet
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped: judged as the IPv4 inside
        ("::ffff:169.254.169.254", "the cloud metadata address"),
        ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
    ],
)
def test_addresses_a_feed_may_not_reach(address: str, reason: str) -> None:
    assert refusal(ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"]
)
def test_public_addresses_pass_also_when_mapped_or_nat64(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_allow_private_networks_lets_every_address_through() -> None:
    assert AddressPolicy(allow_private=True).refusal(ip_address("169.254.169.254")) is None


def test_the_origin_exempts_only_the_host_written_literally() -> None:
    assert Origin.of("127.0.0.1").allows("127.0.0.1")
    assert not Origin.of("127.0.0.1").allows("127.0.0.2")
    assert Origin.of("::1").allows("0:0::1")
    assert Origin.of("localhost").allows("localhost")
    assert not Origin.of("localhost").allows("127.0.0.1")
    assert not Origin.of("news.example").allows("127.0.0.1")
    # An address spelled to look like something else is not taken as the operator's intent.
    assert not Origin.of("0x7f000001").allows("0x7f000001")


# --- redirects -----------------------------------------------------------------------------


async def test_a_public_feed_redirecting_to_loopback_is_refused(
    site: PublicSite, internal: FeedServer
) -> None:
    site.redirect("/feed.xml", internal.url("/admin/"))

    async with guarded() as fetcher:
        result = await fetcher.fetch(f"http://news.example:{site.port}/feed.xml")

    assert result.status is FetchStatus.ERROR
    assert result.error == "redirected to 127.0.0.1, a loopback address: refused"
    assert internal.hits("/admin/") == 0


@pytest.mark.parametrize(
    ("location", "error"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "redirected to 169.254.169.254, the cloud metadata address: refused",
        ),
        ("http://10.0.0.1/", "redirected to 10.0.0.1, a private address: refused"),
        ("http://[::1]:{port}/admin/", "redirected to ::1, a loopback address: refused"),
        (
            "http://0x7f000001:{port}/admin/",
            "redirected to 0x7f000001 (127.0.0.1), a loopback address: refused",
        ),
        (
            "http://[::ffff:127.0.0.1]:{port}/admin/",
            "redirected to ::ffff:7f00:1 (127.0.0.1), a loopback address: refused",
        ),
        ("http://localhost:{port}/admin/", "redirected to localhost, a loopback name: refused"),
        (
            "http://internal.example:{port}/admin/",
            "redirected to internal.example, which resolves to 127.0.0.1, "
            "a loopback address: refused",
        ),
        (
            "file:///etc/passwd",
            "refused a redirect to a file: URL (only http and https are followed)",
        ),
        (
            "ftp://news.example/feed",
            "refused a redirect to a ftp: URL (only http and https are followed)",
        ),
    ],
)
async def test_every_redirect_hop_is_checked(
    site: PublicSite, internal: FeedServer, location: str, error: str
) -> None:
    site.redirect("/start.xml", "/hop.xml", status=301)  # a first hop that is fine
    site.redirect("/hop.xml", location.format(port=internal.port), status=307)

    async with guarded() as fetcher:
        result = await fetcher.fetch(f"http://news.example:{site.port}/start.xml")

    assert (result.status, result.error) == (FetchStatus.ERROR, error)
    assert "\n" not in error
    assert internal.requests == []


async def test_a_name_resolving_to_a_private_address_is_refused_with_the_way_out(
    internal: FeedServer,
) -> None:
    async with guarded() as fetcher:
        result = await fetcher.fetch(f"http://internal.example:{internal.port}/admin/")

    assert result.error == (
        "internal.example resolves to 127.0.0.1, a loopback address: refused "
        "(settings.allow_private_networks: true allows it)"
    )
    assert internal.requests == []


async def test_only_the_checked_addresses_are_connected_to(internal: FeedServer) -> None:
    # A name with a loopback and a public answer (what a rebinding attacker serves), both
    # listening on the same port: the connection can only go to the address that passed,
    # since the connector uses the resolver's filtered answer itself.
    async with PublicSite(port=internal.port) as twin:
        twin.feed("/admin/")
        async with guarded() as fetcher:
            results = [
                await fetcher.fetch(f"http://both.example:{internal.port}/admin/") for _ in range(3)
            ]

    assert all(result.body == RSS for result in results)
    assert internal.requests == []


async def test_the_literal_host_of_the_configured_url_is_allowed_on_every_hop(
    internal: FeedServer,
) -> None:
    internal.redirect("/old.xml", "/admin/")
    internal.redirect("/away.xml", f"http://localhost:{internal.port}/admin/")

    async with Fetcher(timeout=TIMEOUT) as fetcher:  # the system's resolver, the default rule
        same_host = await fetcher.fetch(internal.url("/old.xml"))
        other_host = await fetcher.fetch(internal.url("/away.xml"))
        by_name = await fetcher.fetch(f"http://localhost:{internal.port}/admin/")

    assert same_host.status is FetchStatus.OK
    # 127.0.0.1 was written, localhost was not: it is another host.
    assert other_host.error == "redirected to localhost, a loopback name: refused"
    assert by_name.status is FetchStatus.OK  # the operator wrote localhost
    assert internal.hits("/admin/") == 2


async def test_allow_private_networks_follows_redirects_to_internal_hosts(
    site: PublicSite, internal: FeedServer
) -> None:
    site.redirect("/feed.xml", internal.url("/admin/"))
    site.redirect("/by-name.xml", f"http://internal.example:{internal.port}/admin/")
    open_policy = AddressPolicy(allow_private=True)

    async with guarded(open_policy) as fetcher:
        literal = await fetcher.fetch(f"http://news.example:{site.port}/feed.xml")
        by_name = await fetcher.fetch(f"http://news.example:{site.port}/by-name.xml")

    assert (literal.status, by_name.status) == (FetchStatus.OK, FetchStatus.OK)
    assert internal.hits("/admin/") == 2


async def test_file_redirects_stay_refused_when_private_networks_are_allowed(
    site: PublicSite, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(RSS)
    site.redirect("/feed.xml", secret.as_uri())

    async with guarded(AddressPolicy(allow_private=True)) as fetcher:
        result = await fetcher.fetch(f"http://news.example:{site.port}/feed.xml")
        direct = await fetcher.fetch(secret.as_uri())  # written in feeds.yaml: read

    assert result.error == f"refused a redirect to a file: URL {ONLY_HTTP}"
    assert direct.status is FetchStatus.OK


async def test_the_hop_checks_apply_to_an_injected_session_too(
    site: PublicSite, internal: FeedServer
) -> None:
    import aiohttp

    site.redirect("/feed.xml", internal.url("/admin/"))
    async with (
        aiohttp.ClientSession() as session,
        Fetcher(session=session, timeout=TIMEOUT) as fetcher,
    ):
        result = await fetcher.fetch(f"http://{STAND_IN}:{site.port}/feed.xml")

    assert result.error == "redirected to 127.0.0.1, a loopback address: refused"
    assert internal.requests == []


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("127.0.0.1", None),
        ("10.0.0.1", None),
        ("::1", None),
        ("localhost", None),
        ("news.example", None),
        (
            "169.254.169.254",
            "169.254.169.254 is the cloud metadata address, where no feed is served; refused "
            "(set settings.allow_private_networks: true if this one is)",
        ),
        (
            "0x7f000001",
            "the address 0x7f000001 is written in an unusual form; write it as 127.0.0.1",
        ),
        (
            "2130706433",
            "the address 2130706433 is written in an unusual form; write it as 127.0.0.1",
        ),
        (
            "::ffff:a00:1",
            "the address ::ffff:a00:1 is written in an unusual form; write it as 10.0.0.1",
        ),
    ],
)
def test_what_check_says_about_a_feed_host(host: str, problem: str | None) -> None:
    assert config_problem(host, allow_private=False) == problem


def test_allow_private_networks_admits_link_local_but_not_odd_spellings() -> None:
    assert config_problem("169.254.169.254", allow_private=True) is None
    assert config_problem("0x7f000001", allow_private=True) is not None


def write_config(tmp_path: Path, urls: list[str], settings: str = "") -> Path:
    feeds = "".join(f"  - {url}\n" for url in urls)
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"settings:\n  database: sqlite+aiosqlite:///{tmp_path / 'x.db'}\n{settings}"
        f"feeds:\n{feeds}topics:\n  t:\n    any: [AI]\ndestinations:\n  - console: stdout\n",
        encoding="utf-8",
    )
    return path


def test_check_refuses_metadata_and_disguised_addresses_and_keeps_plain_ones(
    tmp_path: Path,
) -> None:
    urls = [
        "http://169.254.169.254/latest/meta-data/",  # line 4
        "http://0x7f000001/feed.xml",
        "http://10.0.0.1/feed.xml",
        "http://[::1]:8080/feed.xml",
        "http://localhost/feed.xml",
    ]
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, urls), env={})

    assert [line.split(": ", 1)[0] for line in refused.value.errors] == [
        f"{tmp_path / 'feeds.yaml'}:4",
        f"{tmp_path / 'feeds.yaml'}:5",
    ]
    assert "cloud metadata" in refused.value.errors[0]
    assert "write it as 127.0.0.1" in refused.value.errors[1]


def test_allow_private_networks_is_read_and_reaches_the_fetcher(tmp_path: Path) -> None:
    urls = ["http://169.254.169.254/latest/meta-data/"]
    config = load_config(write_config(tmp_path, urls, "  allow_private_networks: true\n"), env={})

    assert config.settings.allow_private_networks is True
    assert fetcher_for(config.settings).address_policy.allow_private is True
    default = load_config(write_config(tmp_path, ["http://10.0.0.1/f.xml"]), env={})
    assert fetcher_for(default.settings).address_policy.allow_private is False


def test_allow_private_networks_must_be_a_boolean(tmp_path: Path) -> None:
    path = write_config(tmp_path, ["http://10.0.0.1/f.xml"], "  allow_private_networks: maybe\n")
    with pytest.raises(ConfigError, match="allow_private_networks: must be true or false"):
        load_config(path, env={})
