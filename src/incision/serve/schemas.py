"""Request bodies. Responses are plain dicts shaped like OpenAI's where an OpenAI endpoint exists."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from ..pii.scrub import Style


class ScoreRequest(BaseModel):
    """`{"texts": [...]}` (or `{"text": "..."}`): every probe's scores of each text."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr | None = None
    texts: list[StrictStr] | None = Field(default=None, min_length=1)
    incision: dict | None = None  # per-request control, vLLM backend: {probes, policies, edits}

    @model_validator(mode="after")
    def _one_of(self):
        if (self.text is None) == (self.texts is None):
            raise ValueError("give either 'text' (one string) or 'texts' (a list of strings)")
        return self

    @property
    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts)


class ScrubRequest(ScoreRequest):
    """Texts to scrub, and how: [LABEL], ****, a salted hash tag or a fake value."""

    style: Style = "label"


class TextPart(BaseModel):
    type: Literal["text"]
    text: StrictStr


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: StrictStr | list[TextPart]

    def as_template_message(self) -> dict:
        content = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)
        return {"role": "system" if self.role == "developer" else self.role, "content": content}


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    """The OpenAI chat completion request, as far as a greedy, single-choice server honours it; settings
    it would otherwise silently ignore (sampling, several choices) are refused with a clear message."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    seed: int | None = None
    incision: dict | None = None  # per-request control, vLLM backend: {probes, policies, edits}

    @model_validator(mode="after")
    def _greedy_only(self):
        if self.temperature not in (None, 0, 0.0):
            raise ValueError(
                f"this server decodes greedily: temperature must be 0 or unset, got {self.temperature}"
            )
        if self.top_p not in (None, 1, 1.0):
            raise ValueError(f"this server decodes greedily: top_p must be 1 or unset, got {self.top_p}")
        if self.n not in (None, 1):
            raise ValueError(f"this server returns one choice: n must be 1 or unset, got {self.n}")
        return self

    @property
    def new_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens
