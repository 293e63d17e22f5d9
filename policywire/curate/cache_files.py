"""Where policywire keeps what it derives once per machine from its packages' data (the model's
table file, the city names): files it can always rebuild, so a cache folder, not the data one."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir"]

CACHE_ENV = "POLICYWIRE_MODEL_CACHE"  # the folder; else the user's cache


def cache_dir() -> Path:
    """`$POLICYWIRE_MODEL_CACHE`, else `policywire` in `$XDG_CACHE_HOME` or `~/.cache`."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policywire"
