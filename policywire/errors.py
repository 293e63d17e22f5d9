"""Every error policywire raises on purpose, under one root.

The tree says what the caller should do, not where the error came from:

    PolicywireError            one readable line; the CLI prints it and exits 1
    ├── ConfigError            feeds.yaml cannot be used (one line per problem)
    ├── YamlSyntaxError        the text is not well-formed YAML (becomes a ConfigError)
    ├── StoreError             the database failed or cannot be used
    │   ├── SchemaError        the database was written by a newer policywire, or is not ours
    │   └── DatabaseGone       the database file was deleted or replaced while running
    ├── AlreadyRunning         another instance holds this database (SQLite): stop that one
    ├── BackupError            `policywire backup` cannot make the copy asked for
    ├── ParseError             a feed body with nothing usable in it
    ├── StartError             a chat platform client could not start
    ├── DeliveryError          a platform call failed; the subclass says what to do
    │   ├── RetryLater         429, 5xx, network trouble: the same message again, later
    │   │   └── TargetFailing  the destination refuses us for now (permissions)
    │   ├── TargetGone         blocked, kicked, deleted: stop sending there
    │   ├── TargetMoved        the chat has a new id: resend there
    │   └── Rejected           this message is refused for good
    └── UserError              something a chat user asked cannot be done
        └── CommandError       … said to them as a message key and its arguments

Anything else that reaches the CLI is a bug: it gets a traceback and exit code 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class PolicywireError(Exception):
    """The root: ``str(error)`` is one line a person can act on."""


class ConfigError(PolicywireError):
    """The configuration cannot be used; ``errors`` holds one formatted line per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class YamlSyntaxError(PolicywireError):
    """The text is not well-formed YAML; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class StoreError(PolicywireError):
    """A database problem, said in one line."""


class SchemaError(StoreError):
    """The database's schema is not one this code can use (newer, or not policywire's)."""


class DatabaseGone(StoreError):
    """The SQLite file the service opened was deleted or replaced under it: stop at once,
    before anything is sent again from a database that forgot what it sent."""


class AlreadyRunning(PolicywireError):
    """Another policywire instance holds this SQLite database; two would send everything twice."""


class BackupError(PolicywireError):
    """The backup cannot be made as asked (not a SQLite database, the file exists…); nothing
    was written at the target."""


class ParseError(PolicywireError):
    """A body with nothing usable in it, said in one line (see policywire.ingest.parse)."""


class StartError(PolicywireError):
    """A chat platform client could not start (bad token, platform unreachable)."""


class DeliveryError(PolicywireError):
    """A platform call failed; the subclass says what to do about it."""


class RetryLater(DeliveryError):
    """Rate limited (429), server error or network trouble: try the same message again."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after  # seconds the platform asked us to wait, if it said


class TargetFailing(RetryLater):
    """The destination exists but refuses us for now (missing permissions): keep its messages,
    show it as failing, retry slowly, and resume by itself once an admin fixes it."""


class TargetGone(DeliveryError):
    """The bot was blocked, kicked, or the chat/channel no longer exists: stop sending there."""


class TargetMoved(DeliveryError):
    """The chat has a new id (a Telegram group became a supergroup): resend there."""

    def __init__(self, reason: str, new_target: str) -> None:
        super().__init__(reason)
        self.new_target = new_target


class Rejected(DeliveryError):
    """The platform refused this message for good (malformed, too large)."""


class UserError(PolicywireError):
    """Something a chat user asked for cannot be done.

    ``key`` is the message's English source text with ``{name}`` placeholders (the gettext
    msgid), ``arguments`` fill them in: the bot translates the key into the chat's language
    before formatting, so no English sentence is ever assembled here. ``str(error)`` is the
    English text, for logs.
    """

    def __init__(self, key: str, /, **arguments: object) -> None:
        self.key = key
        self.arguments: Mapping[str, object] = arguments
        super().__init__(key.format(**arguments) if arguments else key)


class CommandError(UserError):
    """A chat command cannot be done; the reply tells the user why."""
