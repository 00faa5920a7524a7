"""The HTTP service: `create_app(config)` -> a FastAPI app over one Engine (docs/serving.md).

The model loads on a background thread after start-up, so /healthz answers at once and /readyz (and
every /v1 route, with 503) says when it is ready. Errors are JSON shaped like OpenAI's,
`{"error": {"message", "type", "code"}}`, and never quote the request's text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from ..errors import ConfigError, IncisionError, InputError
from .chat import chat_completion, chat_stream
from .config import ServeConfig
from .engine import Engine, reading_json
from .guard import Guard
from .logs import where
from .prometheus import Metrics
from .schemas import ChatRequest, ScoreRequest, ScrubRequest

log = logging.getLogger("incision.serve")


class Service:
    """What the routes share: the config, the engine once it has loaded, metrics, admission count."""

    def __init__(self, config: ServeConfig, engine: Engine | None = None):
        self.config, self.engine, self.metrics = config, engine, Metrics()
        self.keys = [k.encode() for k in config.api_keys()]
        self.in_flight = 0
        self.load_error: str | None = None

    def ready_engine(self) -> Engine:
        if self.engine is None:
            raise NotReady(self.load_error or "the model is still loading; retry when /readyz says ready")
        return self.engine


class NotReady(IncisionError):
    pass


def create_app(config: ServeConfig, engine: Engine | None = None) -> FastAPI:
    """The app; with no `engine`, one is built from `config` on a background thread at start-up."""
    service = Service(config, engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        loop = asyncio.get_running_loop()
        # uvicorn's access lines quote query strings, which may carry text; Guard logs each request without
        logging.getLogger("uvicorn.access").disabled = True
        if service.engine is None:
            threading.Thread(target=_load, args=(service, loop), daemon=True, name="incision-load").start()
        else:
            _ready(service, service.engine)
        yield
        if service.engine is not None:  # uvicorn has drained the in-flight requests by now
            await service.engine.stop()

    app = FastAPI(title="incision", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    _add_error_handlers(app)
    _add_routes(app, service)
    app.add_middleware(Guard, service=service)
    return app


def make_engine(config: ServeConfig, on_batch=None):
    """The configured backend's engine: Hugging Face (default) or vLLM."""
    if config.backend == "vllm":
        from .vllm_engine import VllmEngine

        return VllmEngine(config, on_batch=on_batch)
    return Engine(config, on_batch=on_batch)


def _load(service: Service, loop) -> None:
    try:
        engine = make_engine(service.config, on_batch=service.metrics.batch_texts.observe)
        engine.warm_up()
    except Exception as e:
        service.load_error = f"the model failed to load ({type(e).__name__}); see the server log"
        log.error("loading failed: %s", where(e))
        return
    loop.call_soon_threadsafe(_ready, service, engine)


def _ready(service: Service, engine: Engine) -> None:
    engine.start()
    service.engine = engine
    log.info("ready: model %s, probes %s", service.config.model, sorted(engine.monitor.probes))


def _add_routes(app: FastAPI, service: Service) -> None:
    timeout = service.config.request_timeout_s

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        if service.engine is None:
            reason = service.load_error or "loading"
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        return {
            "status": "ready",
            "model": service.config.model,
            "probes": sorted(service.engine.monitor.probes),
        }

    @app.get("/metrics")
    async def metrics():
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/score")
    async def score(body: ScoreRequest):
        engine = service.ready_engine()
        async with asyncio.timeout(timeout):
            readings = await engine.score(body.all_texts, engine.control(body.incision))
        service.metrics.tokens.labels("/v1/score", "input").inc(sum(len(r.token_ids) for r in readings))
        results = [reading_json(r, engine.thresholds) for r in readings]
        for result in results:
            for name, probe in result["probes"].items():
                if probe["fired"]:
                    service.metrics.firings.labels(name, _action(engine, name)).inc()
        return {"model": service.config.model, "results": results}

    @app.post("/v1/scrub")
    async def scrub(body: ScrubRequest):
        from ..pii.scrub import scrub as replace_spans

        engine = service.ready_engine()
        salt = _salt(service.config) if body.style in ("hash", "fake") else ""
        texts = body.all_texts
        async with asyncio.timeout(timeout):
            found = await engine.find_spans(texts)
        results = []
        for text, spans in zip(texts, found, strict=True):
            text = engine.detector_text(text)
            results.append(
                {
                    "text": replace_spans(text, spans, body.style, salt),
                    "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in spans],
                }
            )
            if spans:
                service.metrics.firings.labels("pii", "scrub").inc(len(spans))
        return results[0] if body.text is not None else {"results": results}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest):
        engine = service.ready_engine()
        prompt = await asyncio.to_thread(engine.chat_prompt, [m.as_template_message() for m in body.messages])
        new_tokens = engine.new_tokens(prompt, body.new_tokens)
        control = engine.control(body.incision)
        service.metrics.tokens.labels("/v1/chat/completions", "input").inc(prompt.tokens)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = chat_stream(service, engine, prompt, new_tokens, include_usage, timeout, control)
            return StreamingResponse(
                chunks, media_type="text/event-stream", headers={"cache-control": "no-cache"}
            )
        async with asyncio.timeout(timeout):
            events = [event async for event in engine.chat(prompt, new_tokens, control)]
        return chat_completion(service, prompt, events)


def _action(engine: Engine, probe: str) -> str:
    policy = engine.monitor.policies.get(probe)
    return policy.action if policy else "flag"


def _salt(config: ServeConfig) -> str:
    salt = os.environ.get(config.scrub_salt_env, "")
    if not salt:
        raise ConfigError(
            f"the hash and fake scrub styles need a secret salt in ${config.scrub_salt_env} on the server"
        )
    return salt


def _add_error_handlers(app: FastAPI) -> None:
    def error(status: int, kind: str, message: str) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        problems = []
        for err in e.errors():  # location and reason only: the offending input may be PII
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
            problems.append(f"{where}: {err.get('msg', 'invalid').removeprefix('Value error, ')}")
        return error(422, "invalid_request_error", "invalid request: " + "; ".join(problems))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        message = e.detail if isinstance(e.detail, str) else "invalid request"
        if e.status_code == 400:
            message = "the request body could not be parsed (it must be JSON in UTF-8)"
        return error(e.status_code, "invalid_request_error", message)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, e: InputError):
        return error(400, "invalid_request_error", str(e))

    @app.exception_handler(ConfigError)
    async def unsupported(request: Request, e: ConfigError):
        return error(400, "invalid_request_error", str(e))

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, e: NotReady):
        return error(503, "service_unavailable", str(e))

    @app.exception_handler(TimeoutError)
    async def timed_out(request: Request, e: TimeoutError):
        return error(504, "timeout", "the request took longer than this server's time limit")
