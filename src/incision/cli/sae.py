"""`incision sae train`: a sparse autoencoder on one site, from a store or from a live model
(`incision sae inspect` lives in `sae_inspect.py`)."""

from __future__ import annotations

from pathlib import Path

from ..sae.config import SAEConfig
from ..sae.site_training import EXPANSION
from ..sae.sources import SourceConfig
from ..sae.splice import SpliceEvalConfig
from ..sae.trainer import SAETrainConfig
from .options import add_dataclass_options, dataclass_kwargs
from .sae_inspect import add_inspect

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
    from ..sae.site_training import train_from_store, train_from_texts

    options = {
        "d_sae": args.d_sae,
        "sae_options": dataclass_kwargs(args, SAEConfig, skip=_SET_BY_COMMAND),
        "train_cfg": SAETrainConfig(**dataclass_kwargs(args, SAETrainConfig)),
        "source_cfg": SourceConfig(**dataclass_kwargs(args, SourceConfig)),
        "eval_cfg": SpliceEvalConfig(**dataclass_kwargs(args, SpliceEvalConfig)),
        "resume": args.resume,
    }
    if (args.store is None) == (args.input is None):
        raise ConfigError("give either --store DIR (train from a store) or --input FILE (capture live)")
    if args.store:
        result = train_from_store(args.store, args.site, args.out, model=args.model, **options)
    else:
        from ..core.models.embedded import DEFAULT_MODEL

        model, texts = args.model or DEFAULT_MODEL, Path(args.input)
        result = train_from_texts(model, texts, args.site, args.out, text_field=args.text_field, **options)
    if is_main():
        print(_summary(result))
        print(f"SAE saved to {args.out}/ (metrics.jsonl, checkpoints/)")


def _summary(result) -> str:
    m = result.metrics
    parts = [f"{result.steps} steps, {result.tokens} tokens"]
    for name in ("fvu", "l0", "dead_fraction", "loss_recovered"):
        if name in m:
            parts.append(f"{name} {m[name]:.4g}")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
