"""`incision.Client`: the HTTP service's endpoints from Python (httpx).

    client = incision.Client("http://127.0.0.1:8000", api_key="...")
    client.score(["some text"])["results"][0]["probes"]["harmful"]["score"]
    client.scrub("call me on 090-1234-5678")["text"]
    for chunk in client.chat([{"role": "user", "content": "hi"}], stream=True): ...

Errors the service returns come back as `ServiceError` with its status and message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx

from ..errors import IncisionError


class ServiceError(IncisionError):
    """The service answered with an error: `status` and its one-sentence `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class Client:
    """`api_key` defaults to $INCISION_API_KEY; `timeout` is per request, in seconds."""

    def __init__(
        self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, timeout: float = 60.0
    ):
        api_key = api_key if api_key is not None else os.environ.get("INCISION_API_KEY")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def score(self, texts: str | list[str]) -> dict:
        """Every probe's scores of each text: {"results": [{"starts", "ends", "probes": {...}}]}."""
        return self._post("/v1/score", {"texts": [texts] if isinstance(texts, str) else list(texts)})

    def scrub(self, text: str | list[str], style: str = "label") -> dict:
        """One text: {"text", "spans"}; a list: {"results": [...]} in the same order."""
        key = "text" if isinstance(text, str) else "texts"
        return self._post("/v1/scrub", {key: text if isinstance(text, str) else list(text), "style": style})

    def chat(self, messages: list[dict], max_tokens: int | None = None, stream: bool = False, **extra):
        """An OpenAI chat completion (a dict), or with `stream=True` an iterator of its chunks."""
        body = {"messages": messages, "stream": stream, **extra}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        return (
            self._stream("/v1/chat/completions", body) if stream else self._post("/v1/chat/completions", body)
        )

    def ready(self) -> bool:
        return self.http.get("/readyz").status_code == 200

    def metrics(self) -> str:
        return self._checked(self.http.get("/metrics")).text

    def _post(self, path: str, body: dict) -> dict:
        return self._checked(self.http.post(path, json=body)).json()

    def _stream(self, path: str, body: dict) -> Iterator[dict]:
        with self.http.stream("POST", path, json=body) as response:
            if response.is_error:
                response.read()
                self._checked(response)
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[len("data: ") :]
                if data == "[DONE]":
                    return
                chunk = json.loads(data)
                if "error" in chunk:
                    raise ServiceError(chunk["error"].get("code", 500), chunk["error"].get("message", ""))
                yield chunk

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.reason_phrase
            raise ServiceError(response.status_code, message)
        return response
