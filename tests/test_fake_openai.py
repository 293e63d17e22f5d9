"""The fake OpenAI server, driven over loopback with a plain aiohttp client."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.openai_api import (
    CHAT,
    EMBEDDINGS,
    MODELS,
    FakeOpenAI,
    cosine,
    hash_embedding,
    nearby_embedding,
)

KEY = "sk-test-0123456789abcdef"
EMBED_MODEL = "text-embedding-3-small"
CHAT_MODEL = "gpt-4o-mini"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY, dimensions=8) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as client:
        yield client


async def post(
    session: aiohttp.ClientSession, server: FakeOpenAI, path: str, payload: Any
) -> tuple[int, Any]:
    async with session.post(server.url(path), json=payload) as response:
        return response.status, await response.json(content_type=None)


def embed_request(texts: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"model": EMBED_MODEL, "input": texts, **extra}


def chat_request(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": CHAT_MODEL, "messages": [{"role": "user", "content": prompt}], **extra}


def vectors(answer: Any) -> list[list[float]]:
    return [item["embedding"] for item in sorted(answer["data"], key=lambda d: d["index"])]


# -- embeddings --------------------------------------------------------------------------------


async def test_embeddings_are_deterministic_unit_vectors(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    status, first = await post(session, server, EMBEDDINGS, embed_request(["a tariff", "a vote"]))
    assert status == 200
    assert first["object"] == "list"
    assert first["model"] == EMBED_MODEL
    assert [item["index"] for item in first["data"]] == [0, 1]
    assert all(item["object"] == "embedding" for item in first["data"])
    assert first["usage"]["prompt_tokens"] == first["usage"]["total_tokens"] > 0
    a, b = vectors(first)
    assert len(a) == len(b) == 8
    assert a == pytest.approx(hash_embedding("a tariff", 8))
    assert sum(x * x for x in a) == pytest.approx(1.0)
    assert a != b

    _, again = await post(session, server, EMBEDDINGS, embed_request("a tariff"))
    assert vectors(again) == [a]  # a bare string is one input, with the same vector


async def test_request_dimensions_and_server_dimensions(session: aiohttp.ClientSession) -> None:
    async with FakeOpenAI(api_key=KEY, dimensions=3) as server:
        _, default = await post(session, server, EMBEDDINGS, embed_request("x"))
        _, asked = await post(session, server, EMBEDDINGS, embed_request("x", dimensions=16))
    assert len(vectors(default)[0]) == 3
    assert len(vectors(asked)[0]) == 16


async def test_base64_encoding_is_packed_float32(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    payload = embed_request(["one", "two"], encoding_format="base64")
    status, answer = await post(session, server, EMBEDDINGS, payload)
    assert status == 200
    raw = base64.b64decode(answer["data"][1]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert list(decoded) == pytest.approx(hash_embedding("two", 8), abs=1e-6)


async def test_registered_embedder_makes_chosen_texts_similar(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    def embedder(text: str) -> list[float] | None:
        if "tariff" in text:
            return nearby_embedding("trade", text, noise=0.05)
        return None  # everything else keeps its hash vector

    server.embed_with(embedder)
    server.set_embedding("pinned", [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    texts = ["EU tariff on steel", "US tariff on cars", "election results", "pinned"]
    _, answer = await post(session, server, EMBEDDINGS, embed_request(texts))
    steel, cars, election, pinned = vectors(answer)
    assert cosine(steel, cars) > 0.95
    assert cosine(steel, election) < 0.9
    assert election == pytest.approx(hash_embedding("election results", 8))
    assert pinned == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert server.embedding_for("EU tariff on steel") == pytest.approx(steel)

    server.embed_with(None)
    _, plain = await post(session, server, EMBEDDINGS, embed_request("EU tariff on steel"))
    assert vectors(plain)[0] == pytest.approx(hash_embedding("EU tariff on steel", 8))


async def test_embedder_passed_to_constructor(session: aiohttp.ClientSession) -> None:
    async with FakeOpenAI(api_key=KEY, embedder=lambda text: [float(len(text)), 0.0]) as server:
        _, answer = await post(session, server, EMBEDDINGS, embed_request(["abc"]))
    assert vectors(answer) == [[3.0, 0.0]]


@pytest.mark.parametrize(
    "payload",
    [
        {"model": EMBED_MODEL},
        {"model": EMBED_MODEL, "input": []},
        {"model": EMBED_MODEL, "input": [""]},
        {"model": EMBED_MODEL, "input": [1, 2]},
        {"model": EMBED_MODEL, "input": "x", "encoding_format": "int8"},
        {"model": EMBED_MODEL, "input": "x", "dimensions": 0},
        {"input": "x"},
    ],
)
async def test_invalid_embedding_requests_get_400(
    server: FakeOpenAI, session: aiohttp.ClientSession, payload: dict[str, Any]
) -> None:
    status, answer = await post(session, server, EMBEDDINGS, payload)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"


# -- chat completions --------------------------------------------------------------------------


async def test_chat_fixed_reply_has_the_standard_shape(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.reply_with("Fixed answer")
    status, answer = await post(
        session, server, CHAT, chat_request("Hello", temperature=0, max_tokens=50)
    )
    assert status == 200
    assert answer["object"] == "chat.completion"
    assert answer["id"].startswith("chatcmpl-")
    assert answer["model"] == CHAT_MODEL
    [choice] = answer["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Fixed answer"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert server.requests_to(CHAT)[0].json["temperature"] == 0


async def test_chat_default_reply(server: FakeOpenAI, session: aiohttp.ClientSession) -> None:
    _, answer = await post(session, server, CHAT, chat_request("Hi"))
    assert answer["choices"][0]["message"]["content"] == "OK"


async def test_chat_responder_sees_the_request(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    def responder(request: dict[str, Any]) -> str:
        prompt = request["messages"][-1]["content"]
        return "relevant" if "tariff" in prompt else "irrelevant"

    server.reply_with(responder)
    _, yes = await post(session, server, CHAT, chat_request("Is a tariff story relevant?"))
    _, no = await post(session, server, CHAT, chat_request("Is a cat story relevant?"))
    assert yes["choices"][0]["message"]["content"] == "relevant"
    assert no["choices"][0]["message"]["content"] == "irrelevant"


async def test_chat_async_responder_and_queued_replies(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    async def responder(request: dict[str, Any]) -> str:
        await asyncio.sleep(0)
        return f"model={request['model']}"

    server.reply_with(responder)
    server.reply_next("first", "second")
    contents = []
    for _ in range(3):
        _, answer = await post(session, server, CHAT, chat_request("?"))
        contents.append(answer["choices"][0]["message"]["content"])
    assert contents == ["first", "second", f"model={CHAT_MODEL}"]


async def test_json_response_format_needs_the_word_json(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.reply_with('{"relevant": true}')
    json_format = {"type": "json_object"}
    status, refused = await post(
        session, server, CHAT, chat_request("Answer yes or no", response_format=json_format)
    )
    assert status == 400
    assert "json" in refused["error"]["message"]
    status, answer = await post(
        session, server, CHAT, chat_request("Answer in JSON", response_format=json_format)
    )
    assert status == 200
    assert answer["choices"][0]["message"]["content"] == '{"relevant": true}'


async def test_chat_answers_longer_than_max_tokens_are_cut(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.reply_with("word " * 100)  # 500 characters: about 125 tokens
    _, cut = await post(session, server, CHAT, chat_request("?", max_tokens=10))
    _, also_cut = await post(session, server, CHAT, chat_request("?", max_completion_tokens=5))
    _, whole = await post(session, server, CHAT, chat_request("?", max_tokens=200))
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["choices"][0]["message"]["content"] == ("word " * 100)[:40]
    assert len(also_cut["choices"][0]["message"]["content"]) == 20
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert whole["choices"][0]["message"]["content"] == "word " * 100


@pytest.mark.parametrize(
    "payload",
    [
        {"model": CHAT_MODEL},
        {"model": CHAT_MODEL, "messages": []},
        {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
        {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": "9"},
        {"model": CHAT_MODEL, "messages": ["hi"]},
        {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True},
    ],
)
async def test_invalid_chat_requests_get_400(
    server: FakeOpenAI, session: aiohttp.ClientSession, payload: dict[str, Any]
) -> None:
    status, answer = await post(session, server, CHAT, payload)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"


# -- models, auth and routing ------------------------------------------------------------------


async def test_models_lists_the_configured_ids(session: aiohttp.ClientSession) -> None:
    async with FakeOpenAI(api_key=KEY, models=["m-embed", "m-chat"]) as server:
        async with session.get(server.url(MODELS)) as response:
            assert response.status == 200
            answer = await response.json()
        assert server.base_url.endswith("/v1")
        assert server.url(MODELS) == f"{server.base_url}/models"
    assert answer["object"] == "list"
    assert [model["id"] for model in answer["data"]] == ["m-embed", "m-chat"]
    assert all(model["object"] == "model" for model in answer["data"])


async def test_unknown_models_get_404_unless_lenient(session: aiohttp.ClientSession) -> None:
    payload = {"model": "no-such-model", "input": "x"}
    async with FakeOpenAI(api_key=KEY) as server:
        status, answer = await post(session, server, EMBEDDINGS, payload)
    assert status == 404
    assert answer["error"]["code"] == "model_not_found"
    async with FakeOpenAI(api_key=KEY, strict_models=False) as server:
        status, answer = await post(session, server, EMBEDDINGS, payload)
    assert status == 200
    assert answer["model"] == "no-such-model"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk-wrong-key"},
        {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": KEY},
    ],
)
@pytest.mark.parametrize("path", [EMBEDDINGS, CHAT, MODELS])
async def test_wrong_or_missing_key_gets_401_without_echo(
    server: FakeOpenAI, headers: dict[str, str], path: str
) -> None:
    async with aiohttp.ClientSession(headers=headers) as client:
        method = "GET" if path == MODELS else "POST"
        payload = embed_request("x") if path == EMBEDDINGS else chat_request("x")
        async with client.request(method, server.url(path), json=payload) as response:
            assert response.status == 401
            text = await response.text()
    assert "sk-" not in text
    assert KEY not in text
    assert json.loads(text)["error"]["type"] == "invalid_request_error"
    assert server.hits(path) == 1  # refused requests are recorded too


async def test_no_key_configured_accepts_anything() -> None:
    async with (
        FakeOpenAI() as server,
        aiohttp.ClientSession() as client,
        client.post(server.url(EMBEDDINGS), json=embed_request("x")) as response,
    ):
        assert response.status == 200


async def test_successful_answers_never_contain_the_key(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.reply_with(lambda request: str(request))  # even a responder echoing the request
    for path, payload in [(EMBEDDINGS, embed_request("x")), (CHAT, chat_request("x"))]:
        async with session.post(server.url(path), json=payload) as response:
            assert KEY not in await response.text()


async def test_bad_json_and_unknown_paths(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    async with session.post(server.url(EMBEDDINGS), data=b"{not json") as response:
        assert response.status == 400
        assert "parse the JSON" in (await response.json())["error"]["message"]
    async with session.post(server.url(CHAT), data=b"[1, 2]") as response:
        assert response.status == 400
    async with session.get(server.url(EMBEDDINGS)) as response:
        assert response.status == 404
    async with session.post(server.url("/v1/completions"), json={}) as response:
        assert response.status == 404
        assert "Invalid URL" in (await response.json())["error"]["message"]
    assert server.requests[0].json is None
    assert server.requests[0].body == b"{not json"
    assert server.requests[1].json == [1, 2]


# -- recording ---------------------------------------------------------------------------------


async def test_requests_are_recorded_and_counted(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    await post(session, server, EMBEDDINGS, embed_request(["a", "b"]))
    await post(session, server, EMBEDDINGS, embed_request("c"))
    await post(session, server, CHAT, chat_request("hi"))
    async with session.get(server.url(MODELS)):
        pass
    assert server.counts == {EMBEDDINGS: 2, CHAT: 1, MODELS: 1}
    assert server.hits(EMBEDDINGS) == server.hits("embeddings") == 2
    assert server.hits("chat/completions") == 1
    first = server.requests_to(EMBEDDINGS)[0]
    assert first.method == "POST"
    assert first.json == embed_request(["a", "b"])
    assert first.headers["authorization"] == f"Bearer {KEY}"  # case-insensitive
    assert server.requests[-1].method == "GET"
    assert server.requests[-1].json is None


async def test_wait_for_hits_and_concurrency(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(EMBEDDINGS, delay=0.2, times=3)
    calls = [post(session, server, EMBEDDINGS, embed_request(str(n))) for n in range(3)]
    gathered = asyncio.gather(*calls)
    async with asyncio.timeout(2):
        await server.wait_for_hits(EMBEDDINGS, 3)
    assert server.in_flight == 3
    results = await gathered
    assert [status for status, _ in results] == [200, 200, 200]
    assert server.max_concurrent == 3
    assert server.in_flight == 0


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
async def test_status_fault_for_the_next_n_requests(
    server: FakeOpenAI, session: aiohttp.ClientSession, status: int
) -> None:
    fault = server.fail_next(EMBEDDINGS, status=status, times=2)
    statuses = []
    for _ in range(3):
        code, _ = await post(session, server, EMBEDDINGS, embed_request("x"))
        statuses.append(code)
    assert statuses == [status, status, 200]
    assert fault.hits == 2
    assert server.faults == []
    code, _ = await post(session, server, CHAT, chat_request("x"))
    assert code == 200


async def test_error_bodies_use_the_openai_shape(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(CHAT, status=500, message="boom")
    status, answer = await post(session, server, CHAT, chat_request("x"))
    assert status == 500
    assert answer == {
        "error": {"message": "boom", "type": "server_error", "param": None, "code": None}
    }


async def test_502_answers_a_proxy_html_page(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next("embeddings", status=502)
    async with session.post(server.url(EMBEDDINGS), json=embed_request("x")) as response:
        assert response.status == 502
        assert response.content_type == "text/html"
        assert "502 Bad Gateway" in await response.text()


async def test_429_with_retry_after(server: FakeOpenAI, session: aiohttp.ClientSession) -> None:
    server.fail_next(CHAT, retry_after=2)
    server.fail_next(EMBEDDINGS, retry_after=0.5)
    async with session.post(server.url(CHAT), json=chat_request("x")) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "2"
        assert response.headers["retry-after-ms"] == "2000"
        answer = await response.json()
    assert answer["error"]["code"] == "rate_limit_exceeded"
    async with session.post(server.url(EMBEDDINGS), json=embed_request("x")) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "0.5"
    status, _ = await post(session, server, CHAT, chat_request("x"))
    assert status == 200


async def test_fault_forever_after_some_successes_and_clear(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(None, status=503, times=None, after=2)  # any endpoint
    statuses = []
    for path, payload in [
        (EMBEDDINGS, embed_request("x")),
        (CHAT, chat_request("x")),
        (EMBEDDINGS, embed_request("x")),
        (CHAT, chat_request("x")),
        (EMBEDDINGS, embed_request("x")),
    ]:
        status, _ = await post(session, server, path, payload)
        statuses.append(status)
    assert statuses == [200, 200, 503, 503, 503]
    server.clear_faults()
    status, _ = await post(session, server, CHAT, chat_request("x"))
    assert status == 200


async def test_faults_are_tried_in_order(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(CHAT, status=500)
    server.fail_next(CHAT, status=503)
    statuses = [(await post(session, server, CHAT, chat_request("x")))[0] for _ in range(3)]
    assert statuses == [500, 503, 200]


async def test_auth_is_checked_before_faults(server: FakeOpenAI) -> None:
    fault = server.fail_next(CHAT, status=500)
    async with (
        aiohttp.ClientSession() as client,
        client.post(server.url(CHAT), json=chat_request("x")) as response,
    ):
        assert response.status == 401
    assert fault.hits == 0


async def test_delay_triggers_a_client_timeout_then_recovers(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(EMBEDDINGS, delay=5)
    timeout = aiohttp.ClientTimeout(total=0.2)
    with pytest.raises(TimeoutError):
        async with session.post(
            server.url(EMBEDDINGS), json=embed_request("x"), timeout=timeout
        ) as response:
            await response.read()
    status, _ = await post(session, server, EMBEDDINGS, embed_request("x"))
    assert status == 200


async def test_delay_then_normal_or_error_answer(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(CHAT, delay=0.15)
    server.fail_next(CHAT, delay=0.15, status=503)
    started = time.monotonic()
    ok, _ = await post(session, server, CHAT, chat_request("x"))
    failed, _ = await post(session, server, CHAT, chat_request("x"))
    assert (ok, failed) == (200, 503)
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("fault", [{"delay": 60.0}, {"hang": True}])
async def test_server_stops_quickly_with_a_pending_slow_request(fault: dict[str, Any]) -> None:
    async with aiohttp.ClientSession(headers=AUTH) as client:
        started = time.monotonic()
        async with FakeOpenAI(api_key=KEY) as server:
            server.fail_next(CHAT, **fault)

            async def call() -> int:
                async with client.post(server.url(CHAT), json=chat_request("x")) as response:
                    await response.read()
                    return response.status

            pending = asyncio.create_task(call())
            async with asyncio.timeout(2):
                await server.wait_for_hits(CHAT)
            await asyncio.sleep(0.05)
            assert not pending.done()
        try:
            status: int | None = await asyncio.wait_for(pending, 2)
        except aiohttp.ClientError:
            status = None  # the connection went away with the server, also fine
        assert status in (503, None)
        assert time.monotonic() - started < 2


async def test_hang_until_the_client_gives_up(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(EMBEDDINGS, hang=True, times=None)
    with pytest.raises(TimeoutError):
        async with session.post(
            server.url(EMBEDDINGS),
            json=embed_request("x"),
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass
    async with asyncio.timeout(1):
        await server.wait_idle()  # the client went away, so the handler was cancelled
    assert server.in_flight == 0
    status, _ = await post(session, server, CHAT, chat_request("x"))
    assert status == 200


async def test_dropped_connection(server: FakeOpenAI, session: aiohttp.ClientSession) -> None:
    server.fail_next(CHAT, drop=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(session, server, CHAT, chat_request("x"))
    status, _ = await post(session, server, CHAT, chat_request("x"))
    assert status == 200


async def test_junk_non_json_bodies(server: FakeOpenAI, session: aiohttp.ClientSession) -> None:
    server.fail_next(EMBEDDINGS, body="<<<definitely not json")
    server.fail_next(CHAT, body=b"", content_type="text/plain")
    server.fail_next(CHAT, status=500, body="<html>Internal error</html>", content_type="text/html")
    async with session.post(server.url(EMBEDDINGS), json=embed_request("x")) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.text() == "<<<definitely not json"
    async with session.post(server.url(CHAT), json=chat_request("x")) as response:
        assert response.status == 200
        assert await response.read() == b""
    async with session.post(server.url(CHAT), json=chat_request("x")) as response:
        assert response.status == 500
        assert await response.text() == "<html>Internal error</html>"


async def test_json_missing_fields(server: FakeOpenAI, session: aiohttp.ClientSession) -> None:
    server.fail_next(EMBEDDINGS, omit=["data"])
    server.fail_next(CHAT, omit={"choices", "usage"})

    def no_content(answer: dict[str, Any]) -> dict[str, Any]:
        del answer["choices"][0]["message"]["content"]
        return answer

    server.fail_next(CHAT, transform=no_content)
    _, embeddings = await post(session, server, EMBEDDINGS, embed_request("x"))
    assert "data" not in embeddings
    assert embeddings["model"] == EMBED_MODEL
    _, chat = await post(session, server, CHAT, chat_request("x"))
    assert "choices" not in chat
    assert "usage" not in chat
    assert chat["object"] == "chat.completion"
    _, chat = await post(session, server, CHAT, chat_request("x"))
    assert chat["choices"][0]["message"] == {"role": "assistant", "refusal": None}


async def test_wrong_dimensions_for_all_or_some_inputs(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(EMBEDDINGS, wrong_dimensions=5)
    server.fail_next(EMBEDDINGS, wrong_dimensions=12, at_indices=[1])
    texts = ["a", "b", "c"]
    _, everything = await post(session, server, EMBEDDINGS, embed_request(texts))
    assert [len(vector) for vector in vectors(everything)] == [5, 5, 5]
    _, some = await post(session, server, EMBEDDINGS, embed_request(texts))
    assert [len(vector) for vector in vectors(some)] == [8, 12, 8]
    assert vectors(some)[0] == pytest.approx(hash_embedding("a", 8))
    _, fixed = await post(session, server, EMBEDDINGS, embed_request(texts))
    assert [len(vector) for vector in vectors(fixed)] == [8, 8, 8]


async def test_wrong_number_of_embeddings(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    server.fail_next(EMBEDDINGS, embedding_count=1)
    server.fail_next(EMBEDDINGS, embedding_count=4)
    server.fail_next(EMBEDDINGS, embedding_count=0)
    texts = ["a", "b"]
    _, fewer = await post(session, server, EMBEDDINGS, embed_request(texts))
    assert [item["index"] for item in fewer["data"]] == [0]
    _, more = await post(session, server, EMBEDDINGS, embed_request(texts))
    assert [item["index"] for item in more["data"]] == [0, 1, 2, 3]
    assert all(len(vector) == 8 for vector in vectors(more))
    _, none = await post(session, server, EMBEDDINGS, embed_request(texts))
    assert none["data"] == []


async def test_embedding_faults_leave_chat_alone(
    server: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    fault = server.fail_next(None, wrong_dimensions=2, times=None)
    status, _ = await post(session, server, CHAT, chat_request("x"))
    assert status == 200
    _, answer = await post(session, server, EMBEDDINGS, embed_request("x"))
    assert len(vectors(answer)[0]) == 2
    assert fault.endpoint == EMBEDDINGS
    assert fault.hits == 1


def test_fault_arguments_are_checked() -> None:
    server = FakeOpenAI()
    with pytest.raises(ValueError, match="change nothing"):
        server.fail_next(CHAT)
    with pytest.raises(ValueError, match="only apply to embeddings"):
        server.fail_next(CHAT, wrong_dimensions=3)
    with pytest.raises(ValueError, match="at_indices"):
        server.fail_next(EMBEDDINGS, at_indices=[0])
    with pytest.raises(ValueError, match="times"):
        server.fail_next(EMBEDDINGS, status=500, times=0)
    with pytest.raises(ValueError, match="dimensions"):
        FakeOpenAI(dimensions=0)
    assert server.faults == []
