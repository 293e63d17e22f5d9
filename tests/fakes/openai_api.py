"""A scriptable fake of the OpenAI HTTP API (embeddings, chat completions, models), for tests.

It is a real aiohttp.web server on 127.0.0.1 with an ephemeral port, answering the wire shapes
of ``/v1/embeddings``, ``/v1/chat/completions`` and ``/v1/models``::

    async with FakeOpenAI(api_key="sk-test", dimensions=8) as server:
        server.embed_with(lambda text: hash_embedding("cluster") if "tariff" in text else None)
        server.reply_with(lambda request: "yes" if "tariff" in str(request["messages"]) else "no")
        server.fail_next(EMBEDDINGS, status=429, retry_after=1)        # one 429, then normal
        server.fail_next(CHAT, delay=5, times=None)                    # every chat call is slow
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer sk-test"}) as s:
            async with s.post(server.url(EMBEDDINGS), json={"model": ..., "input": [...]}) as r:
                ...
        assert server.hits(EMBEDDINGS) == 2

What is modelled:

* Embeddings are deterministic per input text: ``set_embedding`` overrides, then the function
  given to ``embed_with`` (returning None falls through), then ``hash_embedding`` with the
  request's ``dimensions`` or the server's. ``encoding_format="base64"`` answers packed
  little-endian float32, as OpenAI does.
* Chat content comes from one-shot ``reply_next`` replies, then ``reply_with`` (a string or a
  function of the request JSON). ``response_format={"type": "json_object"}`` needs the word
  "json" in the messages, as on OpenAI; ``stream=true`` is refused (not modelled). A content
  longer than ``max_tokens`` (or ``max_completion_tokens``; about 4 characters a token) is
  cut there with ``finish_reason="length"``, as a model stops mid-answer.
* Errors use OpenAI's ``{"error": {"message", "type", "param", "code"}}`` shape. With
  ``api_key`` set, a missing or different ``Authorization: Bearer`` gets 401; no answer ever
  contains the key. Unknown models get 404 ``model_not_found`` unless ``strict_models=False``.
* Faults (``fail_next``) apply per endpoint for the next N requests or forever: statuses (a
  502 answers an HTML page like a proxy would), 429 with ``Retry-After``, delays, hangs,
  dropped connections, junk or incomplete bodies, wrong embedding dimensions or counts.
  Delays and hangs end when the server closes, so teardown stays quick.

Every request is recorded (``requests``, ``hits``, ``counts``, ``requests_to``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import itertools
import json
import math
import struct
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, NamedTuple, Self

from aiohttp import web
from multidict import CIMultiDict

JSON = dict[str, Any]
Responder = Callable[[JSON], str | Awaitable[str]]
Embedder = Callable[[str], Sequence[float] | None]

EMBEDDINGS: Final = "/v1/embeddings"
CHAT: Final = "/v1/chat/completions"
MODELS: Final = "/v1/models"

DEFAULT_MODELS: Final = ("text-embedding-3-small", "gpt-4o-mini")

_ERROR_TYPES: Final = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", None),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}
_DEFAULT_MESSAGES: Final = {
    400: "Bad request.",
    401: "Incorrect API key provided. You can find your API key at "
    "https://platform.openai.com/account/api-keys.",
    403: "Country, region, or territory not supported.",
    404: "Not found.",
    429: "Rate limit reached. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
}
_BAD_GATEWAY_HTML: Final = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class RecordedRequest(NamedTuple):
    method: str
    path: str
    headers: Mapping[str, str]  # case-insensitive
    json: Any  # the parsed body; None when there was no body or it was not JSON
    body: bytes


@dataclass
class Fault:
    """A scripted misbehaviour; see ``FakeOpenAI.fail_next``. ``hits`` counts uses."""

    endpoint: str | None
    status: int | None
    message: str | None
    retry_after: float | None
    delay: float
    hang: bool
    drop: bool
    body: bytes | None
    content_type: str
    omit: frozenset[str]
    transform: Callable[[JSON], JSON] | None
    wrong_dimensions: int | None
    at_indices: frozenset[int] | None
    embedding_count: int | None
    remaining: int | None
    skip: int
    hits: int = 0

    def matches(self, path: str) -> bool:
        return self.endpoint is None or self.endpoint == path


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or _DEFAULT_MESSAGES.get(status, f"Error {status}")
        error_type, default_code = _ERROR_TYPES.get(status, ("server_error", None))
        self.type = error_type
        self.code = code if code is not None else default_code
        self.param = param
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        if self.status == 502 and self.message == _DEFAULT_MESSAGES[502]:
            return web.Response(
                status=502, text=_BAD_GATEWAY_HTML, content_type="text/html", headers=self.headers
            )
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return web.json_response({"error": error}, status=self.status, headers=self.headers)


def hash_embedding(text: str, dimensions: int = 8) -> list[float]:
    """A unit vector derived from sha256 of ``text``: stable across runs and processes."""
    if dimensions < 1:
        raise ValueError("dimensions must be positive")
    values: list[float] = []
    for block in itertools.count():
        if len(values) >= dimensions:
            break
        digest = hashlib.sha256(f"{block}\x00{text}".encode()).digest()
        values.extend(word / 0xFFFFFFFF * 2 - 1 for (word,) in struct.iter_unpack("<I", digest))
    return _normalized(values[:dimensions])


def nearby_embedding(
    anchor: str, text: str, *, noise: float = 0.1, dimensions: int = 8
) -> list[float]:
    """A unit vector close to ``hash_embedding(anchor)``, nudged by ``text`` by ``noise``."""
    base = hash_embedding(anchor, dimensions)
    jitter = hash_embedding(text, dimensions)
    return _normalized([b + noise * j for b, j in zip(base, jitter, strict=True)])


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def _normalized(values: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def _estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _endpoint_path(endpoint: str) -> str:
    """``"embeddings"`` and ``"/v1/embeddings"`` both name the embeddings endpoint."""
    return endpoint if endpoint.startswith("/") else f"/v1/{endpoint.strip('/')}"


class FakeOpenAI:
    """A scriptable OpenAI-compatible server on 127.0.0.1; ``async with FakeOpenAI() as s``.

    Scripting: ``embed_with``/``set_embedding`` (vectors), ``reply_with``/``reply_next``
    (chat content), ``fail_next``/``clear_faults`` (faults).
    Observing: ``requests``, ``requests_to``, ``hits``, ``counts``, ``wait_for_hits``,
    ``in_flight``/``max_concurrent``/``wait_idle``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: Sequence[str] = DEFAULT_MODELS,
        strict_models: bool = True,
        dimensions: int = 8,
        embedder: Embedder | None = None,
        reply: str | Responder = "OK",
    ) -> None:
        """Configure the fake; nothing listens until ``async with``.

        api_key: when given, requests need ``Authorization: Bearer <api_key>`` or get 401.
        models: what ``/v1/models`` lists; with ``strict_models`` other models get 404.
        dimensions: the length of default (hash) embeddings when a request names none.
        """
        if dimensions < 1:
            raise ValueError("dimensions must be positive")
        self.api_key = api_key
        self.models = list(models)
        self.strict_models = strict_models
        self.dimensions = dimensions
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.in_flight = 0
        self.max_concurrent = 0
        self._embedder = embedder
        self._vectors: dict[str, list[float]] = {}
        self._reply: str | Responder = reply
        self._next_replies: deque[str] = deque()
        self._completion_ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._request_seen = asyncio.Condition()
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a request whose client timed out must not linger; the short
        # shutdown grace keeps teardown fast even if one does.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.1
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = _bound_port(self._runner)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()  # releases every delayed or hanging handler
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What OpenAI clients call ``base_url``: ``http://127.0.0.1:<port>/v1``."""
        return self.url("/v1")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    # -- scripting ---------------------------------------------------------------------------

    def embed_with(self, embedder: Embedder | None) -> None:
        """Use ``embedder(text)`` for vectors; a None result (or embedder) means the hash."""
        self._embedder = embedder

    def set_embedding(self, text: str, vector: Sequence[float]) -> None:
        """Answer exactly ``vector`` for ``text``, ahead of any embedder."""
        self._vectors[text] = [float(v) for v in vector]

    def embedding_for(self, text: str, dimensions: int | None = None) -> list[float]:
        """The vector the server answers for ``text`` (what tests compare against)."""
        if text in self._vectors:
            return list(self._vectors[text])
        if self._embedder is not None:
            vector = self._embedder(text)
            if vector is not None:
                return [float(v) for v in vector]
        return hash_embedding(text, dimensions or self.dimensions)

    def reply_with(self, reply: str | Responder) -> None:
        """Answer chat completions with ``reply``, or ``reply(request_json)`` (may be async)."""
        self._reply = reply

    def reply_next(self, *contents: str) -> None:
        """Queue one-shot chat answers, used in order before ``reply_with``'s."""
        self._next_replies.extend(contents)

    def fail_next(
        self,
        endpoint: str | None = None,
        *,
        status: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        hang: bool = False,
        drop: bool = False,
        body: bytes | str | None = None,
        content_type: str = "application/json",
        omit: Collection[str] = (),
        transform: Callable[[JSON], JSON] | None = None,
        wrong_dimensions: int | None = None,
        at_indices: Collection[int] | None = None,
        embedding_count: int | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> Fault:
        """Misbehave on the next ``times`` requests to ``endpoint`` (None: any); None: forever.

        ``after`` lets that many matching requests through first. Faults are tried in the
        order they were added, and the first matching one is used.

        status/message: answer an OpenAI error (502 with no message: a proxy's HTML page).
        retry_after: implies 429, sent as ``Retry-After`` (seconds) and ``retry-after-ms``.
        delay: wait before answering (normally, unless combined with an error); hang: never
        answer while the server is open; drop: close the connection without an answer.
        body: send these bytes (status 200 unless given) instead of the real answer.
        omit: drop these top-level keys from the real answer; transform: rewrite it.
        wrong_dimensions: embeddings of this length, for the inputs at ``at_indices`` (None:
        all); embedding_count: answer exactly this many embeddings (truncated or extended).
        Either one makes the fault an embeddings fault even when ``endpoint`` is None.
        """
        path = _endpoint_path(endpoint) if endpoint is not None else None
        if retry_after is not None:
            status = status or 429
        shaping = omit or transform is not None or body is not None
        embedding_only = wrong_dimensions is not None or embedding_count is not None
        if embedding_only and path not in (None, EMBEDDINGS):
            raise ValueError("wrong_dimensions and embedding_count only apply to embeddings")
        if embedding_only:
            path = EMBEDDINGS
        if at_indices is not None and wrong_dimensions is None:
            raise ValueError("at_indices needs wrong_dimensions")
        if status is None and not (delay or hang or drop or shaping or embedding_only):
            raise ValueError("this fault would change nothing")
        if times is not None and times < 1:
            raise ValueError("times must be positive, or None for forever")
        fault = Fault(
            endpoint=path,
            status=status,
            message=message,
            retry_after=retry_after,
            delay=delay,
            hang=hang,
            drop=drop,
            body=body.encode() if isinstance(body, str) else body,
            content_type=content_type,
            omit=frozenset(omit),
            transform=transform,
            wrong_dimensions=wrong_dimensions,
            at_indices=frozenset(at_indices) if at_indices is not None else None,
            embedding_count=embedding_count,
            remaining=times,
            skip=after,
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- observing ---------------------------------------------------------------------------

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        path = _endpoint_path(endpoint)
        return [request for request in self.requests if request.path == path]

    def hits(self, endpoint: str) -> int:
        return len(self.requests_to(endpoint))

    @property
    def counts(self) -> dict[str, int]:
        """Requests received per path, whatever the answer was."""
        return dict(Counter(request.path for request in self.requests))

    async def wait_for_hits(self, endpoint: str, count: int = 1) -> None:
        """Return once ``endpoint`` has received ``count`` requests (wrap in a timeout)."""
        async with self._request_seen:
            await self._request_seen.wait_for(lambda: self.hits(endpoint) >= count)

    async def wait_idle(self) -> None:
        """Return once no request is being handled (a client that gave up cancels its own)."""
        await self._idle.wait()

    # -- HTTP plumbing -----------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        self.requests.append(
            RecordedRequest(
                request.method, request.path, CIMultiDict(request.headers), parsed, body
            )
        )
        self.in_flight += 1
        self._idle.clear()
        self.max_concurrent = max(self.max_concurrent, self.in_flight)
        async with self._request_seen:
            self._request_seen.notify_all()
        try:
            return await self._answer(request, body, parsed)
        except _ApiError as error:
            return error.response()
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def _answer(self, request: web.Request, body: bytes, parsed: Any) -> web.StreamResponse:
        self._check_auth(request)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.hang:
                await self._closing.wait()
                raise _ApiError(503, "The fake server is shutting down.")
            if not await self._pause(fault.delay):
                raise _ApiError(503, "The fake server is shutting down.")
            if fault.drop:
                return _drop_connection(request)
            if fault.status is not None and fault.status >= 400:
                if fault.body is not None:
                    return _raw(fault)
                raise _fault_error(fault)
        route = (request.method, request.path)
        if route == ("GET", MODELS):
            payload = self._models()
        elif route == ("POST", EMBEDDINGS):
            payload = self._embeddings(_json_object(body, parsed), fault)
        elif route == ("POST", CHAT):
            payload = await self._chat(_json_object(body, parsed))
        else:
            raise _ApiError(404, f"Invalid URL ({request.method} {request.path})")
        if fault is None:
            return web.json_response(payload)
        return _shaped(payload, fault)

    def _check_auth(self, request: web.Request) -> None:
        if self.api_key is None:
            return
        header = request.headers.get("Authorization")
        if not header:
            raise _ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise _ApiError(401, code="invalid_api_key")  # never echo the key, right or wrong

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if not fault.matches(path):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    async def _pause(self, seconds: float) -> bool:
        """Sleep; False when the server closed first, so teardown never waits on a delay."""
        if seconds <= 0:
            return True
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return True
        return False

    def _check_model(self, payload: JSON) -> str:
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            raise _ApiError(400, "you must provide a model parameter", param="model")
        if self.strict_models and model not in self.models:
            raise _ApiError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return model

    def _models(self) -> JSON:
        data = [
            {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "openai"}
            for model in self.models
        ]
        return {"object": "list", "data": data}

    def _embeddings(self, payload: JSON, fault: Fault | None) -> JSON:
        model = self._check_model(payload)
        raw_input = payload.get("input")
        texts = [raw_input] if isinstance(raw_input, str) else raw_input
        if (
            not isinstance(texts, list)
            or not texts
            or not all(isinstance(text, str) and text for text in texts)
        ):
            raise _ApiError(
                400, "'$.input' is invalid. Please check the API reference.", param="input"
            )
        encoding = payload.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise _ApiError(
                400, "encoding_format must be 'float' or 'base64'", param="encoding_format"
            )
        dimensions = payload.get("dimensions")
        if dimensions is not None and (not isinstance(dimensions, int) or dimensions < 1):
            raise _ApiError(400, "dimensions must be a positive integer", param="dimensions")
        vectors = [self.embedding_for(text, dimensions) for text in texts]
        if fault is not None:
            vectors = _misshape(vectors, texts, fault)
        data = [
            {"object": "embedding", "index": index, "embedding": _encode(vector, encoding)}
            for index, vector in enumerate(vectors)
        ]
        tokens = sum(_estimate_tokens(text) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    async def _chat(self, payload: JSON) -> JSON:
        model = self._check_model(payload)
        messages = payload.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
        ):
            raise _ApiError(
                400, "'messages' must be a non-empty array of messages", param="messages"
            )
        if payload.get("stream"):
            raise _ApiError(400, "stream=true is not supported by the fake", param="stream")
        response_format = payload.get("response_format")
        if (
            isinstance(response_format, dict)
            and response_format.get("type") == "json_object"
            and "json" not in json.dumps(messages).lower()
        ):
            raise _ApiError(
                400,
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                param="messages",
            )
        limit = payload.get("max_completion_tokens", payload.get("max_tokens"))
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise _ApiError(400, "max_tokens must be a positive integer", param="max_tokens")
        content = await self._reply_for(payload)
        finish_reason = "stop"
        if limit is not None and _estimate_tokens(content) > limit:
            content, finish_reason = content[: limit * 4], "length"
        prompt_tokens = sum(_estimate_tokens(json.dumps(m.get("content"))) for m in messages)
        completion_tokens = _estimate_tokens(content)
        return {
            "id": f"chatcmpl-fake{next(self._completion_ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    async def _reply_for(self, payload: JSON) -> str:
        if self._next_replies:
            return self._next_replies.popleft()
        if isinstance(self._reply, str):
            return self._reply
        content = self._reply(payload)
        if inspect.isawaitable(content):
            content = await content
        if not isinstance(content, str):
            raise TypeError(f"the chat responder returned {type(content).__name__}, not str")
        return content


def _json_object(body: bytes, parsed: Any) -> JSON:
    if not isinstance(parsed, dict):
        message = (
            "We could not parse the JSON body of your request. (HINT: This likely means "
            "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
            "payload, but what was sent was not valid JSON.)"
        )
        raise _ApiError(400, message if body else "The request body is empty.")
    return parsed


def _fault_error(fault: Fault) -> _ApiError:
    assert fault.status is not None
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
        headers["retry-after-ms"] = str(round(fault.retry_after * 1000))
    return _ApiError(fault.status, fault.message, headers=headers)


def _misshape(vectors: list[list[float]], texts: list[str], fault: Fault) -> list[list[float]]:
    if fault.wrong_dimensions is not None:
        vectors = [
            hash_embedding(text, fault.wrong_dimensions)
            if fault.at_indices is None or index in fault.at_indices
            else vector
            for index, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        ]
    if fault.embedding_count is not None:
        width = len(vectors[0])
        extra = [
            hash_embedding(f"extra embedding {index}", width)
            for index in range(len(vectors), fault.embedding_count)
        ]
        vectors = (vectors + extra)[: fault.embedding_count]
    return vectors


def _shaped(payload: JSON, fault: Fault) -> web.Response:
    if fault.body is not None:
        return _raw(fault)
    shaped = {key: value for key, value in payload.items() if key not in fault.omit}
    if fault.transform is not None:
        shaped = fault.transform(shaped)
    return web.json_response(shaped, status=fault.status or 200)


def _raw(fault: Fault) -> web.Response:
    assert fault.body is not None
    return web.Response(
        status=fault.status or 200, body=fault.body, content_type=fault.content_type
    )


def _encode(vector: Sequence[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return list(vector)


def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without an answer, like a proxy dying mid-request."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp cannot write to an aborted transport and drops the response quietly.
    return web.Response(status=204)


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the fake OpenAI server did not bind a TCP port")
