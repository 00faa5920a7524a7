"""`incision sae train`: a sparse autoencoder on one site, from a store or from a live model
(`incision sae inspect` lives in `sae_inspect.py`)."""

from __future__ import annotations

from pathlib import Path

from ..sae.config import SAEConfig
from ..sae.sources import SourceConfig
from ..sae.splice import SpliceEvalConfig
from ..sae.trainer import SAETrainConfig
from .options import add_dataclass_options, dataclass_kwargs
from .sae_inspect import add_inspect

EXPANSION = 8  # latents per input dimension when --d-sae is not given
_SET_BY_COMMAND = ("d_in", "d_sae")


def add_sae(sub) -> None:
    p = sub.add_parser("sae", help="train and inspect sparse autoencoders")
    actions = p.add_subparsers(dest="action", required=True)

    train = actions.add_parser("train", help="train an SAE on one site, from a store or a live model")
    train.add_argument("--store", default=None, help="store folder written by `incision capture`")
    train.add_argument(
        "--input",
        default=None,
        help="texts to capture from live instead (.jsonl, .json, .csv, .parquet, .txt)",
    )
    train.add_argument(
        "--model",
        default=None,
        help="model to capture from (with --input; default: the embedded default) or to measure the loss "
        "recovered with (with --store; default: the store's)",
    )
    train.add_argument(
        "--text-field", default="text", help="field of each --input record that holds its text"
    )
    train.add_argument("--site", required=True, help="one site, e.g. resid.6")
    train.add_argument(
        "--out", required=True, help="folder for the SAE (SAELens layout), metrics.jsonl and checkpoints/"
    )
    train.add_argument(
        "--d-sae", type=int, default=None, help=f"number of latents (default: {EXPANSION} x the site's width)"
    )
    train.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    for cls in (SAEConfig, SAETrainConfig, SourceConfig, SpliceEvalConfig):
        add_dataclass_options(train, cls, skip=_SET_BY_COMMAND)
    train.set_defaults(run=run_train)
    add_inspect(actions)


def run_train(args) -> None:
    """Train and save an SAE; under `torchrun --nproc-per-node N`, N processes share every batch and rank 0
    writes the outputs."""
    from ..distributed.ddp import finish, init_from_env

    init_from_env()
    try:
        _train(args)
    finally:
        finish()


def _train(args) -> None:
    from ..distributed.ddp import is_main
    from ..errors import ConfigError
    from ..sae import SparseAutoencoder, save, train_sae
    from ..sae.splice import SpliceEval, loss_recovered_callback

    train_cfg = SAETrainConfig(**dataclass_kwargs(args, SAETrainConfig))
    source_cfg = SourceConfig(**dataclass_kwargs(args, SourceConfig))
    eval_cfg = SpliceEvalConfig(**dataclass_kwargs(args, SpliceEvalConfig))
    if (args.store is None) == (args.input is None):
        raise ConfigError("give either --store DIR (train from a store) or --input FILE (capture live)")
    if eval_cfg.eval_every % train_cfg.log_every:
        raise ConfigError(
            f"eval_every ({eval_cfg.eval_every}) must be a multiple of log_every ({train_cfg.log_every}): "
            "the loss recovered is measured at log steps"
        )
    source = _from_store(args, source_cfg, eval_cfg) if args.store else _live(args, source_cfg, eval_cfg)
    sae_options = dataclass_kwargs(args, SAEConfig, skip=_SET_BY_COMMAND)
    sae_cfg = SAEConfig(d_in=source.width, d_sae=args.d_sae or EXPANSION * source.width, **sae_options)
    sae = SparseAutoencoder(sae_cfg, seed=train_cfg.seed, meta=source.meta)
    callbacks = []
    if source.eval_texts:
        evaluation = SpliceEval(
            source.subject,
            source.meta["site"],
            source.eval_texts,
            eval_cfg.eval_max_tokens,
            eval_cfg.eval_batch_tokens,
            source_cfg.include_special,
        )
        callbacks.append(loss_recovered_callback(evaluation, eval_cfg.eval_every))
    result = train_sae(sae, source.batches(sae), train_cfg, args.out, callbacks=callbacks, resume=args.resume)
    if not is_main():
        return  # the other processes hold the same SAE; rank 0 writes it
    result.sae.meta.update(tokens=result.tokens, include_special=source_cfg.include_special)
    save(result.sae, args.out)
    print(_summary(result))
    print(f"SAE saved to {args.out}/ (metrics.jsonl, checkpoints/)")


class _Source:
    """What the command trains from: the site's width, the batches, the SAE's meta, the evaluation texts."""

    def __init__(self, width: int, batches, meta: dict, subject=None, eval_texts: list[str] | None = None):
        self.width, self.batches, self.meta = width, batches, meta
        self.subject, self.eval_texts = subject, eval_texts or []


def _from_store(args, source_cfg: SourceConfig, eval_cfg: SpliceEvalConfig) -> _Source:
    from .. import load
    from ..errors import ConfigError, InputError
    from ..sae.sources import holdout_docs, store_batches
    from ..store import ActivationStore

    store = ActivationStore.open(args.store)
    width = store.width(args.site)  # an unknown site fails here, listing the store's sites
    if store.n_docs == 0:
        raise InputError(f"store {args.store!r} holds no documents; capture some text into it")
    held = holdout_docs(store.n_docs, eval_cfg.eval_docs, source_cfg.shuffle_seed)
    sha = store.manifest["settings"]["model"]["config_sha256"]
    meta = {"model": store.model["name"], "model_config_sha256": sha, "site": args.site}
    subject, eval_texts = None, []
    if len(held):
        if "text" not in store.documents.column_names:
            raise ConfigError(
                f"store {args.store!r} keeps no texts to measure the loss recovered on; pass --eval-docs 0"
            )
        texts = store.documents["text"].to_pylist()
        eval_texts = [texts[int(d)] for d in held]
        subject = load(args.model or store.model["name"])
        if subject.config_sha256 != sha:
            raise ConfigError(
                f"model {subject.name!r} is not the one store {args.store!r} was captured from "
                f"({store.model['name']!r}); pass that model with --model"
            )

    def batches(sae):
        return store_batches(store, args.site, sae, source_cfg, exclude_docs=held)

    return _Source(width, batches, meta, subject, eval_texts)


def _live(args, source_cfg: SourceConfig, eval_cfg: SpliceEvalConfig) -> _Source:
    from .. import load
    from ..inputs import read_documents
    from ..models.embedded import DEFAULT_MODEL
    from ..sae.sources import holdout_docs, live_batches

    subject = load(args.model or DEFAULT_MODEL)
    site = subject.resolve(args.site).name
    texts = [doc.text for doc in read_documents(Path(args.input), args.text_field)]
    held = set(holdout_docs(len(texts), eval_cfg.eval_docs, source_cfg.shuffle_seed).tolist())
    train_texts = [t for k, t in enumerate(texts) if k not in held]
    meta = {"model": subject.name, "model_config_sha256": subject.config_sha256, "site": site}

    def batches(sae):
        return live_batches(subject, train_texts, site, sae, source_cfg)

    return _Source(subject.d_model, batches, meta, subject, [texts[k] for k in sorted(held)])


def _summary(result) -> str:
    m = result.metrics
    parts = [f"{result.steps} steps, {result.tokens} tokens"]
    for name in ("fvu", "l0", "dead_fraction", "loss_recovered"):
        if name in m:
            parts.append(f"{name} {m[name]:.4g}")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
