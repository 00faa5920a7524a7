"""`incision steer direction|generate|ablate|orthogonalize|erase`: make a direction, steer generation with
it, remove it (hooks or weights), or fit a LEACE eraser. Nothing here prints the texts it reads."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.models.embedded import DEFAULT_MODEL

METHODS = ("diff_means", "pca", "probe")
BUNDLED = "bundled"  # --keep-means without a file: the bundled neutral text


def add_steer(sub) -> None:
    p = sub.add_parser("steer", help="directions, steering, directional ablation, orthogonalisation, erasure")
    actions = p.add_subparsers(dest="action", required=True)

    direction = actions.add_parser("direction", help="a direction from two sets of texts, a store or a probe")
    _model(direction)
    direction.add_argument("--positive", help="texts of the positive side (.jsonl/.csv/.parquet/.txt)")
    direction.add_argument("--negative", help="texts of the negative side")
    direction.add_argument("--text-field", default="text", help="field of each record that holds its text")
    direction.add_argument("--store", help="labelled store instead of texts (its training split is used)")
    direction.add_argument("--label-field", default="label", help="with --store: the label field")
    direction.add_argument("--positive-label", help="with --store: the positive label")
    direction.add_argument("--negative-label", help="with --store: the negative label")
    direction.add_argument("--split-field", default=None, help="with --store: the field naming splits")
    direction.add_argument("--probe", help="a binary probe folder: its weights are the direction")
    direction.add_argument("--sites", default="resid.6", help="sites, e.g. resid.6,resid.8 or resid.*")
    direction.add_argument("--method", choices=METHODS, default="diff_means", help="pca: paired texts")
    direction.add_argument("--pooling", choices=("mean", "last"), default="mean", help="per-text pooling")
    direction.add_argument("--out", required=True, help="folder for the direction")
    direction.set_defaults(run=run_direction)

    generate = actions.add_parser(
        "generate", help="greedy generation with and without steering, side by side"
    )
    _model(generate)
    _direction(generate)
    generate.add_argument("--alpha", type=float, default=1.0, help="multiple of the direction added")
    generate.add_argument("--positions", choices=("all", "prompt", "generated"), default="all")
    generate.add_argument("--prompt", action="append", default=[], help="a prompt (repeatable)")
    generate.add_argument("--prompts", help="a file of prompts")
    generate.add_argument("--chat", action="store_true", help="wrap prompts in the model's chat template")
    generate.add_argument("--max-new-tokens", type=int, default=32)
    generate.add_argument("--out", help="also write a JSONL of prompts and both continuations here")
    generate.set_defaults(run=run_generate)

    for name, helptext in (
        ("ablate", "generate with the direction ablated from every residual write (hooks)"),
        ("orthogonalize", "bake the ablation into the weights and save a Hugging Face folder"),
    ):
        edit = actions.add_parser(name, help=helptext)
        _model(edit)
        _direction(edit)
        edit.add_argument("--prompt", action="append", default=[], help="a prompt to show (repeatable)")
        edit.add_argument("--chat", action="store_true", help="wrap prompts in the model's chat template")
        edit.add_argument("--max-new-tokens", type=int, default=32)
        edit.add_argument("--out", required=name == "orthogonalize", help="folder for the edited model")
        edit.add_argument(
            "--keep-means", nargs="?", const=BUNDLED, default=None, metavar="TEXTS",
            help="first make the direction orthogonal to the residual writes' means on neutral text (a file "
            "with one text per line; the bundled neutral text when no file is given): docs/steering.md",
        )  # fmt: skip
        edit.set_defaults(run=run_edit, edit=name)

    demo = actions.add_parser(
        "demo", help="remove the sentiment concept (Gemma) or find the refusal direction (SmolLM2)"
    )
    demo.add_argument("which", choices=("concept", "refusal"))
    demo.add_argument(
        "--model", default=None, help="default: gemma-3-270m (concept), smollm2-135m-instruct (refusal)"
    )
    demo.add_argument("--site", default="resid.6", help="concept: where the direction is taken")
    demo.add_argument(
        "--layers", default="6,8,10,12,14,16,18", help="refusal: candidate layers, chosen on validation"
    )
    demo.add_argument("--alphas", default="1,2,4,8", help="refusal: multiples of the direction added")
    demo.add_argument("--out", default=None, help="default: out/steer-<which>")
    demo.set_defaults(run=run_demo)

    erase = actions.add_parser("erase", help="fit a LEACE eraser for a store's labels at one site")
    erase.add_argument("--store", required=True, help="labelled store folder")
    erase.add_argument("--site", required=True, help="one site of the store")
    erase.add_argument("--label-field", default="label")
    erase.add_argument("--split-field", default=None, help="field naming splits (train is fitted on)")
    erase.add_argument("--out", required=True, help="folder for the eraser")
    erase.set_defaults(run=run_erase)


def _model(p) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name or folder")


def _direction(p) -> None:
    p.add_argument("--direction", required=True, help="direction folder (incision steer direction)")
    p.add_argument("--site", default=None, help="which of the direction's sites (needed when it has several)")


def run_direction(args) -> None:
    from .. import load
    from ..core.inputs import read_documents
    from ..core.store import ActivationStore
    from ..errors import ConfigError
    from ..probes.linear import LinearProbe
    from ..steer import contrast

    if args.probe:
        direction = contrast.from_probe(LinearProbe.load(args.probe))
    elif args.store:
        if not (args.positive_label and args.negative_label):
            raise ConfigError("with --store, name --positive-label and --negative-label")
        store = ActivationStore.open(args.store)
        sites = [s for s in args.sites.split(",") if s]
        direction = contrast.diff_means_from_store(
            store,
            sites,
            args.label_field,
            args.positive_label,
            args.negative_label,
            args.pooling,
            args.split_field,
        )
    else:
        if not (args.positive and args.negative):
            raise ConfigError("give --positive and --negative text files, or --store, or --probe")
        positive = [d.text for d in read_documents(args.positive, args.text_field)]
        negative = [d.text for d in read_documents(args.negative, args.text_field)]
        make = contrast.pca_of_differences if args.method == "pca" else contrast.diff_means
        direction = make(load(args.model), positive, negative, args.sites, args.pooling)
    direction.save(args.out)
    norms = ", ".join(f"{s} |v| = {float(v.norm()):.3g}" for s, v in direction.vectors.items())
    print(f"direction ({direction.meta.get('method')}) saved to {args.out}/: {norms}")


def run_generate(args) -> None:
    from .. import load
    from ..steer.direction import Direction
    from ..steer.steering import generate, steer

    subject = load(args.model)
    direction = Direction.load(args.direction, subject=subject)
    site = args.site or (direction.sites[0] if len(direction.sites) == 1 else None)
    prompts = _prompts(args, subject)
    plain, _ = generate(subject, prompts, max_new_tokens=args.max_new_tokens)
    with steer(subject, {site: direction.vector(site)}, args.alpha, args.positions) as steering:
        steered, _ = generate(subject, prompts, steering, max_new_tokens=args.max_new_tokens)
    _show(prompts, plain, steered, f"steered (alpha {args.alpha:g} at {site}, {args.positions})", args.out)


def run_edit(args) -> None:
    from .. import load
    from ..core.inputs import read_documents
    from ..steer.ablation import ablate
    from ..steer.direction import Direction
    from ..steer.keep_means import keep_means
    from ..steer.orthogonalize import orthogonalize, save_edited
    from ..steer.steering import generate

    subject = load(args.model)
    direction = Direction.load(args.direction, subject=subject)
    vector = direction.vector(args.site)
    kept = {}
    if args.keep_means:
        texts = None if args.keep_means == BUNDLED else [d.text for d in read_documents(args.keep_means)]
        vector, kept = keep_means(subject, vector, texts)
        print(f"direction made orthogonal to {kept['kept_write_means']} write means "
              f"(cosine to the original {kept['cosine_to_original']:.3f})")  # fmt: skip
    prompts = _prompts(args, subject) if args.prompt else []
    plain = generate(subject, prompts, max_new_tokens=args.max_new_tokens)[0] if prompts else []
    if args.edit == "ablate":
        with ablate(subject, vector):
            edited = generate(subject, prompts, max_new_tokens=args.max_new_tokens)[0] if prompts else []
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
    else:
        record = {
            **orthogonalize(subject, vector),
            "direction": str(args.direction),
            "site": args.site,
            **kept,
        }
        edited = generate(subject, prompts, max_new_tokens=args.max_new_tokens)[0] if prompts else []
        save_edited(subject, args.out, record)
        print(f"edited model saved to {args.out}/ (loads with transformers.AutoModelForCausalLM)")
    if prompts:
        out = str(Path(args.out) / "generations.jsonl") if args.out else None
        _show(prompts, plain, edited, args.edit, out)


def run_erase(args) -> None:
    from ..core.store import ActivationStore
    from ..steer.erase import fit_eraser

    eraser = fit_eraser(ActivationStore.open(args.store), args.site, args.label_field, args.split_field)
    eraser.save(args.out)
    print(f"LEACE eraser (rank {eraser.rank}, labels {eraser.meta['label_names']}) saved to {args.out}/")


def run_demo(args) -> None:
    import time

    from .. import load
    from ..steer import demos

    start = time.perf_counter()
    out = Path(args.out or f"out/steer-{args.which}")
    if args.which == "concept":
        subject = load(args.model or DEFAULT_MODEL)
        reports = demos.concept_demo(subject, out, site=args.site)
        print("\n\n".join(r.table() for r in reports))
    else:
        subject = load(args.model or "smollm2-135m-instruct")
        layers = [int(x) for x in args.layers.split(",") if x.strip()]
        alphas = [float(x) for x in args.alphas.split(",") if x.strip()]
        result = demos.refusal_demo(subject, out, layers=layers, alphas=alphas)
        print((out / "report.txt").read_text(encoding="utf-8"))
        print(f"validation refusal rate after ablation, per site: {result['validation']}")
    print(f"\nreport in {out / 'report.html'} ({time.perf_counter() - start:.0f} s)")


def _prompts(args, subject) -> list[str]:
    from ..core.inputs import read_documents
    from ..errors import ConfigError

    prompts = list(args.prompt)
    if getattr(args, "prompts", None):
        prompts += [d.text for d in read_documents(args.prompts)]
    if not prompts:
        raise ConfigError("give at least one --prompt (or --prompts FILE)")
    if args.chat:
        from ..steer.refusal import chat_prompts

        prompts = chat_prompts(subject, prompts)
    return prompts


def _show(prompts, before, after, label: str, out: str | None) -> None:
    """Continuations side by side; the prompts are the user's own, shown back to them."""
    for prompt, a, b in zip(prompts, before, after, strict=True):
        print(f"\n>>> {prompt!r}\n  plain:  {a!r}\n  {label}: {b!r}")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            for prompt, a, b in zip(prompts, before, after, strict=True):
                f.write(json.dumps({"prompt": prompt, "plain": a, "edited": b}, ensure_ascii=False) + "\n")
