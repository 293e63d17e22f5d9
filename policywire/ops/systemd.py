"""Telling systemd how the service is doing: the sd_notify protocol, standard library only.

Under a unit with `Type=notify`, systemd puts the address of a datagram socket in
`$NOTIFY_SOCKET` and waits for `READY=1` before it counts the service as started; with
`WatchdogSec=` it also sets `$WATCHDOG_USEC` and kills the service when no `WATCHDOG=1`
arrives within that time. The pings are sent from the event loop, so a loop that hangs (the
one failure no log line reports) gets the service restarted. `STOPPING=1` says a stop has
begun, so the shutdown is not mistaken for a crash.

Without `$NOTIFY_SOCKET` (a terminal, Docker, cron) every call here does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

SEND_TIMEOUT = 1.0  # seconds; systemd reads at once, so a full socket means systemd is wedged


def socket_address(value: str) -> str | bytes | None:
    """The address `$NOTIFY_SOCKET` names: a path, or an abstract name ("@name" → b"\\0name").

    None for an address this module cannot use (systemd's `vsock:` form, a relative path).
    """
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None


def watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds between two pings (half of `$WATCHDOG_USEC`, as systemd advises), or None
    when no watchdog is asked of this process."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    # `$WATCHDOG_PID` names the process the watchdog is for; a child that inherited the
    # variables must not ping in its parent's name.
    owner = env.get("WATCHDOG_PID", "").strip()
    if usec <= 0 or (owner and owner != str(pid)):
        return None
    return usec / 2 / 1_000_000


class Notifier:
    """Sends state changes to the service manager; every method is a no-op without a socket."""

    def __init__(self, address: str | bytes | None, watchdog: float | None = None) -> None:
        self.address = address
        self.watchdog = watchdog if address is not None else None
        self._failed = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Notifier:
        value = env.get("NOTIFY_SOCKET", "").strip()
        if not value:
            return cls(None)
        address = socket_address(value)
        if address is None:
            log.warning("NOTIFY_SOCKET=%s is not a socket address policywire can use", value)
            return cls(None)
        return cls(address, watchdog_interval(env, os.getpid()))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send `KEY=value` fields as one datagram; False when it could not be sent.

        A failure is logged once: systemd going away is not a reason to stop the service.
        """
        if self.address is None:
            return False
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(SEND_TIMEOUT)
                sock.sendto(message, self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("could not notify systemd (%s): %s", fields[0], exc)
            self._failed = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1", "STATUS=stopping")

    def ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    async def keep_alive(self, sleep: Sleep = asyncio.sleep) -> None:
        """Ping the watchdog every `watchdog` seconds until cancelled (returns at once when
        no watchdog is asked for)."""
        if self.watchdog is None:
            return
        while True:
            self.ping()
            await sleep(self.watchdog)


@contextlib.asynccontextmanager
async def running(
    env: Mapping[str, str], status: str | None = None, *, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[Notifier]:
    """For the block where the service runs: READY=1 on entry, watchdog pings while inside,
    STOPPING=1 on the way out (however the block ends)."""
    notifier = Notifier.from_env(env)
    if notifier.enabled:
        notifier.ready(status)
        watchdog = f", watchdog every {notifier.watchdog:g}s" if notifier.watchdog else ""
        log.info("told systemd the service is ready%s", watchdog)
    pinger = asyncio.create_task(notifier.keep_alive(sleep), name="policywire-watchdog")
    try:
        yield notifier
    finally:
        notifier.stopping()
        pinger.cancel()
        await asyncio.gather(pinger, return_exceptions=True)
