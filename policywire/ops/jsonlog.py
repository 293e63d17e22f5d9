"""`--log-format json`: each log record as one JSON object on its own line.

python-json-logger does the encoding (every field escaped, exceptions as one string); this
module only chooses the fields: time, level, logger, message, and the exception if any.
"""

from __future__ import annotations

import logging
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

FIELDS = ("asctime", "levelname", "name", "message")


def json_handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter(
            " ".join(f"%({name})s" for name in FIELDS),
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    return handler
