"""Train a SparseAutoencoder from any iterator of activation batches [B, d_in] (a store, a live model, a list).

Incoming batches are cut into steps of exactly `batch_size` tokens, so step s always trains on tokens
[s * batch_size, (s + 1) * batch_size) of the stream. Adam with linear warm-up and a linear decay to 0 at
the end; decoder rows kept at unit norm; b_dec (and the input scale) set from the first batch. Resuming
replays the stream from its start and skips the tokens already trained on: pass the same iterator again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from ..configs import check_choices
from ..errors import ConfigError, InputError
from ..reduce import Reducer, local_rows, process_reducer
from . import checkpoint as ckpt
from .config import SAEConfig
from .model import SAELosses, SAEOutput, SparseAutoencoder
from .train_log import LogContext, MetricsCallback, MetricsLog

log = logging.getLogger(__name__)

# fields that change the arithmetic: a resumed run must have the same values
_RESUME_MUST_MATCH = ("lr", "warmup_steps", "decay_fraction", "batch_size", "total_tokens", "b_dec_init",
                      "adam_beta1", "adam_beta2", "adam_eps", "seed")  # fmt: skip


@dataclass
class SAETrainConfig:
    """How an SAE is trained. Every field is also a command-line option."""

    lr: float = field(default=2e-4, metadata={"help": "peak Adam learning rate"})
    warmup_steps: int = field(default=100, metadata={"help": "steps of linear warm-up from 0 to lr"})
    decay_fraction: float = field(
        default=0.2, metadata={"help": "final share of the steps over which lr decays linearly to 0"}
    )
    batch_size: int = field(default=4096, metadata={"help": "tokens per step"})
    total_tokens: int = field(default=2_000_000, metadata={"help": "tokens to train on (steps x batch_size)"})
    log_every: int = field(default=100, metadata={"help": "steps between metric records"})
    checkpoint_every: int = field(
        default=1000, metadata={"help": "steps between checkpoints (0: at the end)"}
    )
    keep_checkpoints: int = field(default=2, metadata={"help": "newest checkpoints kept on disk"})
    b_dec_init: Literal["geometric_median", "mean", "zeros"] = field(
        default="geometric_median",
        metadata={"help": "pre-encoder bias from the first batch (zeros: left as it is, 0 for a new SAE)"},
    )
    adam_beta1: float = field(default=0.9, metadata={"help": "Adam beta1"})
    adam_beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    adam_eps: float = field(default=1e-8, metadata={"help": "Adam epsilon"})
    seed: int = field(default=0, metadata={"help": "seed of the SAE's initial weights"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    tensorboard: bool = field(default=True, metadata={"help": "also log to tensorboard when it is installed"})

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("batch_size", "total_tokens", "log_every", "keep_checkpoints"):
            if not _int(getattr(self, name)) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in ("warmup_steps", "checkpoint_every", "seed"):
            if not _int(getattr(self, name)) or getattr(self, name) < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {getattr(self, name)!r}")
        if self.total_tokens < self.batch_size:
            raise ConfigError(
                f"total_tokens ({self.total_tokens}) must be at least batch_size ({self.batch_size})"
            )
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ConfigError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.decay_fraction, int | float) and 0 <= self.decay_fraction <= 1):
            raise ConfigError(f"decay_fraction must be in [0, 1], got {self.decay_fraction!r}")
        for name in ("adam_beta1", "adam_beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")

    @property
    def total_steps(self) -> int:
        return self.total_tokens // self.batch_size

    def lr_at(self, step: int) -> float:
        """Learning rate of step `step` (0-based): warm-up, constant, then linear decay to 0."""
        factor = 1.0
        if self.warmup_steps:
            factor = min(factor, (step + 1) / self.warmup_steps)
        decay_steps = int(self.total_steps * self.decay_fraction)
        if decay_steps:
            factor = min(factor, (self.total_steps - step) / decay_steps)
        return self.lr * factor


@dataclass
class TrainResult:
    sae: SparseAutoencoder
    steps: int
    tokens: int
    metrics: dict  # the last metrics record
    out_dir: Path | None


def make_optimizer(sae: SparseAutoencoder, cfg: SAETrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam(
        [p for _, p in sae.named_parameters()],
        lr=cfg.lr,
        betas=(cfg.adam_beta1, cfg.adam_beta2),
        eps=cfg.adam_eps,
    )


def train_sae(
    sae: SparseAutoencoder | SAEConfig,
    batches: Iterable[torch.Tensor],
    cfg: SAETrainConfig | None = None,
    out_dir: str | Path | None = None,
    *,
    callbacks: Sequence[MetricsCallback] = (),
    resume: bool = False,
) -> TrainResult:
    """Train `sae` (or a new one built from an SAEConfig with `cfg.seed`) on `batches`, writing metrics.jsonl
    and checkpoints under `out_dir` (nothing is written without one). With `resume`, the newest checkpoint
    there is restored and the stream fast-forwarded past the tokens it had trained on.

    Under torch distributed (W processes), each reads the same stream and trains on its 1/W of each batch
    through DistributedDataParallel, batch statistics reduced over processes (the SAE gets the group's
    reducer): the run equals a single-process one with the same `batch_size`. Rank 0 alone writes files,
    runs the callbacks and shows progress."""
    cfg = cfg or SAETrainConfig()
    if isinstance(sae, SAEConfig):
        sae = SparseAutoencoder(sae, seed=cfg.seed)
    reducer = process_reducer()
    if cfg.batch_size % reducer.size:
        raise ConfigError(f"batch_size ({cfg.batch_size}) must be divisible by the {reducer.size} processes")
    main = reducer.rank == 0
    out_dir = Path(out_dir) if out_dir is not None else None
    optimizer = make_optimizer(sae, cfg)
    step, tokens = _start(sae, optimizer, cfg, out_dir, resume)
    metrics = MetricsLog(out_dir if main else None, start_step=step, tensorboard=cfg.tensorboard and main)
    sae.train()
    engine = _engine(sae, reducer)
    show = cfg.progress and main
    bar = tqdm(total=cfg.total_steps, initial=step, disable=not show, unit="step", desc="sae")
    started, started_tokens = time.perf_counter(), tokens
    try:
        stream = rechunk(batches, cfg.batch_size, sae.cfg.d_in, skip_tokens=tokens)
        while step < cfg.total_steps:
            x_BD = next(stream, None)
            if x_BD is None:
                if main:
                    log.warning("the batches ran out after %d of %d steps", step, cfg.total_steps)
                break
            x_BD = x_BD.to(device=sae.device, dtype=sae.dtype)
            if step == 0:
                _first_batch(sae, x_BD, cfg, reducer)
            share_BD = x_BD[local_rows(x_BD.shape[0], reducer)]
            metrics.add(_step(engine, sae, optimizer, share_BD, cfg.lr_at(step), reducer))
            step, tokens = step + 1, tokens + x_BD.shape[0]
            bar.update(1)
            if step % cfg.log_every == 0 or step == cfg.total_steps:
                rate = (tokens - started_tokens) / max(time.perf_counter() - started, 1e-9)
                extra = {"lr": cfg.lr_at(step - 1), "tokens_per_s": rate}
                context = LogContext(step, tokens, sae, x_BD, {}, cfg.total_steps)
                record = metrics.write(context, extra, list(callbacks) if main else [])
                bar.set_postfix(fvu=f"{record['fvu']:.3f}", l0=f"{record['l0']:.1f}")
            if main and out_dir is not None:  # rank 0 writes; every process holds the same state
                _checkpoint(out_dir, sae, optimizer, step, tokens, cfg)
    finally:
        bar.close()
        metrics.close()
    sae.eval()
    return TrainResult(sae, step, tokens, metrics.last, out_dir)


def _first_batch(sae: SparseAutoencoder, x_BD: torch.Tensor, cfg: SAETrainConfig, reducer: Reducer) -> None:
    """b_dec and the input scale from the first batch, which every process holds whole (so they agree);
    under torch distributed, first check that the processes do read the same stream."""
    if reducer.size > 1:
        total = x_BD.double().sum()
        if not torch.equal(reducer.max(total), reducer.min(total)):
            raise InputError(
                "the processes read different first batches; give every process the same stream (same "
                "source and shuffle seed): each trains on its share of every batch"
            )
    sae.init_from_data_(x_BD, b_dec=cfg.b_dec_init)


def _checkpoint(out_dir: Path, sae, optimizer, step: int, tokens: int, cfg: SAETrainConfig) -> None:
    """A checkpoint at every `checkpoint_every` steps and at the last step."""
    if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or step == cfg.total_steps:
        ckpt.save_checkpoint(out_dir, sae, optimizer, step, tokens, asdict(cfg))
        ckpt.prune_checkpoints(out_dir, cfg.keep_checkpoints)


def _engine(sae: SparseAutoencoder, reducer: Reducer) -> torch.nn.Module:
    """What the step calls: the SAE itself alone, else the SAE wrapped in DistributedDataParallel (gradients
    averaged over processes; the counters are kept equal by `record_batch`, so no buffer broadcasts)."""
    if reducer.size == 1:
        return sae
    device_ids = [sae.device.index] if sae.device.type == "cuda" else None
    return DistributedDataParallel(sae, device_ids=device_ids, forward_sync_buffers=False)


def _step(engine, sae: SparseAutoencoder, optimizer, x_BD: torch.Tensor, lr: float, reducer: Reducer):
    output = engine(x_BD, reducer=reducer)
    optimizer.zero_grad(set_to_none=True)
    # the loss is this share's part of the whole batch's; DDP averages gradients, so scale back up
    (output.losses.total * reducer.size).backward()
    sae.project_decoder_grad_()
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    sae.normalise_decoder_()
    sae.record_batch(output.latents, reducer)
    return _global_output(output, reducer) if reducer.size > 1 else output


def _global_output(output: SAEOutput, reducer: Reducer) -> SAEOutput:
    """The output with each loss term and metric summed over processes: the whole batch's values."""
    terms = [getattr(output.losses, f.name).detach().double() for f in fields(SAELosses)]
    summed = reducer.sum(torch.stack(terms))
    return SAEOutput(output.reconstruction_BD, output.latents, SAELosses(*summed.unbind()))


def _start(sae, optimizer, cfg: SAETrainConfig, out_dir: Path | None, resume: bool) -> tuple[int, int]:
    """(step, tokens) to start from: 0 for a fresh run, the newest checkpoint's when resuming."""
    latest = ckpt.latest_checkpoint(out_dir) if out_dir is not None else None
    if not resume:
        if latest is not None:
            raise ConfigError(
                f"{str(out_dir)!r} already holds checkpoints; pass resume=True or choose another folder"
            )
        return 0, 0
    if out_dir is None:
        raise ConfigError("resume needs the out_dir that holds the checkpoints")
    if latest is None:
        log.info("no checkpoint under %s; starting from step 0", out_dir)
        return 0, 0
    state = ckpt.load_checkpoint(latest, sae, optimizer)
    for name in _RESUME_MUST_MATCH:
        if state.train.get(name) != getattr(cfg, name):
            raise ConfigError(
                f"checkpoint {str(latest)!r} was trained with {name}={state.train.get(name)!r}, not "
                f"{getattr(cfg, name)!r}; resume with the same settings"
            )
    log.info("resuming from step %d (%d tokens)", state.step, state.tokens)
    return state.step, state.tokens


def rechunk(
    batches: Iterable[torch.Tensor], batch_size: int, width: int, skip_tokens: int = 0
) -> Iterator[torch.Tensor]:
    """Batches of exactly `batch_size` rows from batches of any size, after dropping the first
    `skip_tokens` rows; a last partial batch is dropped. Each incoming batch is checked (shape, finite)."""
    pending: list[torch.Tensor] = []
    n_pending, seen = 0, 0
    for batch in batches:
        batch = _check_batch(batch, width, seen)
        seen += batch.shape[0]
        if skip_tokens:
            dropped = min(skip_tokens, batch.shape[0])
            batch, skip_tokens = batch[dropped:], skip_tokens - dropped
        pending.append(batch)
        n_pending += batch.shape[0]
        while n_pending >= batch_size:
            joined = torch.cat(pending) if len(pending) > 1 else pending[0]
            yield joined[:batch_size]
            rest = joined[batch_size:]
            pending, n_pending = [rest], rest.shape[0]


def _check_batch(batch, width: int, offset: int) -> torch.Tensor:
    if not isinstance(batch, torch.Tensor) or batch.ndim != 2 or batch.shape[1] != width:
        shape = list(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
        raise InputError(
            f"activation batches must be tensors of shape [B, {width}], got {shape} at token {offset}"
        )
    if not batch.is_floating_point():
        raise InputError(f"activation batches must hold floats, got {batch.dtype} at token {offset}")
    finite = torch.isfinite(batch).all(dim=1)
    if not bool(finite.all()):
        row = offset + int((~finite).nonzero()[0, 0])
        raise InputError(
            f"the activation batch starting at token {offset} holds NaN or inf (token {row}); drop or recapture it"
        )
    return batch


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
