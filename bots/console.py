"""The console "platform": digests printed to stdout or stderr (the default destination)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from policywire.deliver.sender import Pacing
from policywire.errors import Rejected


class ConsoleTransport:
    platform = "console"
    pacing = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)

    def __init__(self, streams: Mapping[str, TextIO] | None = None) -> None:
        self.streams = dict(streams or {"stdout": sys.stdout, "stderr": sys.stderr})

    async def send(self, target: str, payload: Mapping[str, Any]) -> str | None:
        stream = self.streams.get(target)
        if stream is None:
            raise Rejected(f"unknown console stream {target!r}")
        stream.write(str(payload.get("text", "")))
        stream.write("\n")
        stream.flush()
        return None
