"""The gate every request passes before it reaches a route (a plain ASGI middleware, so it also sees
requests no route matches): API key (401), body size (413), admission (429), then metrics and one log
line per request. The log line names the method, route, status and time, never a query string or a
body, which may hold PII."""

from __future__ import annotations

import hmac
import json
import logging
import time

from .logs import where

log = logging.getLogger("incision.serve")
OPEN_PATHS = ("/healthz", "/readyz", "/metrics")
KNOWN_ROUTES = ("/v1/score", "/v1/scrub", "/v1/chat/completions", *OPEN_PATHS)


class Guard:
    def __init__(self, app, service):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        service, path = self.service, scope["path"]
        route = path if path in KNOWN_ROUTES else "other"
        status, started = {}, time.perf_counter()

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        async def app(scope, receive, send):
            """The app; a crash is answered here (500) and logged without its message, never re-raised
            to the server, whose log would print the message (which may quote text)."""
            try:
                await self.app(scope, receive, send)
            except Exception as e:
                log.error("internal error: %s", where(e))
                if "code" not in status:  # no response has started
                    await _error(send, 500, f"internal error ({type(e).__name__}); the server log has where")

        admitted = False
        try:
            if path in OPEN_PATHS:
                return await app(scope, receive, sending)
            headers = dict(scope["headers"])
            if not self._authorised(headers.get(b"authorization", b"")):
                return await _error(
                    sending, 401, "missing or wrong API key; send 'Authorization: Bearer KEY'"
                )
            body = await _read_body(receive, headers, service.config.max_body_bytes)
            if body is None:
                return await _error(
                    sending,
                    413,
                    f"the request body is larger than this server's limit of {service.config.max_body_bytes} bytes",
                )
            if service.in_flight >= service.config.max_in_flight:
                return await _error(
                    sending, 429, f"the server is at its limit of {service.config.max_in_flight} requests; retry shortly",
                    [(b"retry-after", b"1")],
                )  # fmt: skip
            admitted = True
            service.in_flight += 1
            service.metrics.in_flight.set(service.in_flight)
            await app(scope, _replay(body, receive), sending)
        finally:
            if admitted:
                service.in_flight -= 1
                service.metrics.in_flight.set(service.in_flight)
            seconds = time.perf_counter() - started
            code = status.get("code", 500)
            service.metrics.requests.labels(route, str(code)).inc()
            service.metrics.latency.labels(route).observe(seconds)
            log.info("%s %s %d %.1f ms", scope["method"], route, code, seconds * 1000)

    def _authorised(self, header: bytes) -> bool:
        keys = self.service.keys
        if not keys:
            return True
        scheme, _, token = header.partition(b" ")
        matched = False
        for key in keys:  # every key is compared, so the time taken does not tell which one nearly matched
            matched |= hmac.compare_digest(token.strip(), key)
        return matched and scheme.lower() == b"bearer"


async def _read_body(receive, headers: dict, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to pass `limit` (declared or counted)."""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    """A receive that gives the app the body already read, then listens for the client leaving."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _error(send, status: int, message: str, headers=()) -> None:
    kind = {401: "authentication_error", 413: "request_too_large", 429: "rate_limit_exceeded"}.get(
        status, "internal_error"
    )
    body = json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode()
    extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
