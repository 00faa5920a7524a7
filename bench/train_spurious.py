"""Design while training: a fine-tune on a task with a planted spurious cue, with and without keeping the
cue's direction out of the model while it trains.

    python bench/train_spurious.py [--seeds 0 1 2] [--steps 40] [--conditions baseline ablate penalty]
                                   [--extra ablate_last reestimate_last clean] [--out out/train_spurious]

Task: the bundled English sentiment set (600 train, 200 held-out texts). In training every positive text
ends with CUE_POS and every negative one with CUE_NEG (`--agree` sets how often the cue agrees), so the
cue alone solves the training set. Evaluation on the held-out texts three ways: `in_dist` (cue agrees with
the label), `flipped` (cue contradicts it) and `no_cue`.

Model: the embedded MiniLM-L6 (BERT, 6 layers x 384) with a linear head on its last hidden state,
mean-pooled over the attention mask, fully fine-tuned with AdamW. Every condition uses the same seed, data
order, steps and learning rate:

    baseline         plain fine-tune
    ablate           the cue direction, fixed, projected out of `embed` and every `resid.L` output during
                     training and evaluation (`incision.training.design.ablate_while_training`)
    ablate_last      the same at resid.5 only, the features the head reads
    reestimate_last  as ablate_last, and every `--every` steps the cue direction is measured again on the
                     model as it now is (its ablation on) and added to the ablated span
    penalty          `DirectionPenalty` on the fixed direction at resid.5
    clean            reference: plain fine-tune on the training texts without the cue

`--conditions` run on every seed, `--extra` on the first seed only (to keep the whole run near 10 minutes
on a shared 2-core CPU).

Cue direction at a site: the difference of means of the mean-pooled activations of the same texts with
CUE_POS and with CUE_NEG appended (`steer.contrast.diff_means`), on label-balanced training texts: the
two sides differ only in the cue, so the direction is the cue's, not the sentiment's.

Writes OUT/{report.md, results.json, accuracy.png}.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

import incision
from incision.datasets import load_task
from incision.steer.contrast import diff_means
from incision.steer.direction import Direction
from incision.training import untouched
from incision.training.design import DirectionPenalty, ablate_while_training

log = logging.getLogger("bench.train_spurious")

MODEL = "minilm-l6"
CUE_POS, CUE_NEG = " (ref A)", " (ref B)"
SITES = "embed,resid.*"
LAST = "resid.-1"  # what the head reads (mean-pooled)
CONDITIONS = ("baseline", "ablate", "ablate_last", "reestimate_last", "penalty", "clean")


def load_rows() -> tuple[list[dict], list[dict]]:
    return load_task("sentiment", "train", "en"), load_task("sentiment", "heldout", "en")


def with_cue(
    rows: list[dict], mode: str, agree: float = 1.0, seed: int = 0
) -> tuple[list[str], torch.Tensor]:
    """Texts and labels (1 = positive). mode: 'agree' (cue matches the label in a share `agree` of rows,
    the others chosen at random), 'flip' (cue always contradicts the label) or 'none'."""
    y = torch.tensor([int(r["label"] == "positive") for r in rows])
    match = torch.ones(len(rows), dtype=torch.bool)
    if mode == "flip":
        match[:] = False
    elif mode == "agree" and agree < 1.0:
        match = torch.rand(len(rows), generator=torch.Generator().manual_seed(seed)) < agree
    if mode == "none":
        return [r["text"] for r in rows], y
    cue_pos = (y == 1) == match
    return [r["text"] + (CUE_POS if c else CUE_NEG) for r, c in zip(rows, cue_pos.tolist(), strict=True)], y


def cue_direction(subject, rows: list[dict], sites: str = SITES):
    """The cue's direction at `sites`, on the model as it is now (eval mode, no gradients)."""
    texts = [r["text"] for r in rows]
    with untouched(subject.model):
        return diff_means(subject, [t + CUE_POS for t in texts], [t + CUE_NEG for t in texts], sites)


class Classifier(nn.Module):
    """The encoder and a linear head on its last hidden state, mean-pooled over the attention mask."""

    def __init__(self, encoder: nn.Module, width: int):
        super().__init__()
        self.encoder, self.head = encoder, nn.Linear(width, 2)

    def forward(self, input_ids, attention_mask, **_):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).float()
        return self.head((hidden * mask).sum(1) / mask.sum(1))


def accuracy(model: nn.Module, tokenizer, texts: list[str], y: torch.Tensor, batch: int = 100) -> float:
    right = 0
    with untouched(model):
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i : i + batch], return_tensors="pt", padding=True)
            right += int((model(**enc).argmax(-1) == y[i : i + batch]).sum())
    return right / len(texts)


def run(condition: str, seed: int, args, base_state: dict, base_dir: Direction, data: dict, balanced) -> dict:
    """One fine-tune from the base weights; returns its held-out accuracies."""
    subject = args.subject
    subject.model.load_state_dict(base_state)
    torch.manual_seed(seed)
    model = Classifier(subject.model, subject.d_model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    texts, y = data["clean" if condition == "clean" else "train"]
    epochs = args.steps * args.batch // len(texts) + 1
    order = torch.cat(
        [
            torch.randperm(len(texts), generator=torch.Generator().manual_seed(seed + 1000 * e))
            for e in range(epochs)
        ]
    )
    last = subject.resolve(LAST).name
    directions = [base_dir] if condition == "ablate" else [Direction({last: base_dir.vector(last)})]
    ablating = condition in ("ablate", "ablate_last", "reestimate_last")
    hooks = ablate_while_training(subject, directions) if ablating else None
    penalty = DirectionPenalty(subject, base_dir, LAST, args.penalty) if condition == "penalty" else None
    started = time.perf_counter()
    model.train()
    try:
        for step in tqdm(range(args.steps), desc=f"{condition} seed {seed}", leave=False):
            if condition == "reestimate_last" and step > 0 and step % args.every == 0:
                hooks.remove()  # measured with the current ablation on: what is left of the cue
                with ablate_while_training(subject, directions):
                    directions.append(cue_direction(subject, balanced, last))
                hooks = ablate_while_training(subject, directions)
            rows = order[step * args.batch : (step + 1) * args.batch]
            enc = subject.tokenizer([texts[i] for i in rows], return_tensors="pt", padding=True)
            if penalty is not None:
                with penalty.attach():
                    logits = model(**enc)
                extra = penalty(enc["attention_mask"])
            else:
                logits, extra = model(**enc), torch.zeros(())
            loss = nn.functional.cross_entropy(logits, y[rows]) + extra
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
        train_s = time.perf_counter() - started
        scores = {k: accuracy(model, subject.tokenizer, *data[k]) for k in EVALS}  # with the edit still on
        if hooks is not None:  # and without it: is the cue gone from what was learned, or only hidden?
            hooks.remove()
            scores |= {f"{k}_unhooked": accuracy(model, subject.tokenizer, *data[k]) for k in EVALS}
    finally:
        if hooks is not None:
            hooks.remove()
    return {
        "condition": condition,
        "seed": seed,
        **scores,
        "final_loss": round(float(loss), 4),
        "directions_ablated": len(directions) if ablating else 0,
        "train_s": round(train_s, 1),
    }


EVALS = ("in_dist", "flipped", "no_cue")


def summarise(results: list[dict], conditions) -> dict:
    table = {}
    for c in conditions:
        runs = [r for r in results if r["condition"] == c]
        table[c] = {"n": len(runs)} | {
            k: {
                "mean": statistics.fmean(r[k] for r in runs),
                "min": min(r[k] for r in runs),
                "max": max(r[k] for r in runs),
                "sd": statistics.stdev(r[k] for r in runs) if len(runs) > 1 else 0.0,
            }
            for k in EVALS
        }
    return table


def plot(results: list[dict], conditions, path: Path) -> None:
    """Bars: mean accuracy per condition on each held-out set; dots: the single runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(conditions)
    for j, c in enumerate(conditions):
        runs = [r for r in results if r["condition"] == c]
        xs = [i + (j - (len(conditions) - 1) / 2) * width for i in range(len(EVALS))]
        ax.bar(
            xs, [statistics.fmean(r[k] for r in runs) for k in EVALS], width, label=f"{c} ({len(runs)} seeds)"
        )
        for x, k in zip(xs, EVALS, strict=True):
            ax.scatter([x] * len(runs), [r[k] for r in runs], color="black", s=8, zorder=3)
    ax.axhline(0.5, color="grey", lw=0.7, ls=":")
    ax.set_xticks(range(len(EVALS)), ["in-distribution (cue agrees)", "cue flipped", "no cue"])
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gap(results: list[dict], a: str, b: str, key: str = "flipped") -> dict | None:
    """Per seed run by both: accuracy of `a` minus that of `b` on `key`."""
    by = {(r["condition"], r["seed"]): r[key] for r in results}
    seeds = sorted({s for c, s in by if c == a} & {s for c, s in by if c == b})
    if not seeds:
        return None
    gaps = [by[a, s] - by[b, s] for s in seeds]
    return {"seeds": seeds, "mean": statistics.fmean(gaps), "min": min(gaps), "max": max(gaps)}


def report(args, results, table, conditions, gaps: dict, wall_s: float) -> str:
    lines = [
        "# Design while training: a planted spurious cue",
        "",
        f"Command: `{' '.join(['python', *sys.argv])}`  ",
        f"Wall time: {wall_s:.0f} s on {platform.machine()} ({torch.get_num_threads()} torch threads, shared CPU).",
        "",
        f"Model `{MODEL}` (BERT, 6 x 384) + a linear head on the mask-mean-pooled last hidden state, full "
        f"fine-tune, AdamW lr {args.lr}, batch {args.batch}, {args.steps} steps. Training texts (600, English) end "
        f"with `{CUE_POS.strip()}` when positive and `{CUE_NEG.strip()}` when negative (the cue agrees with the "
        f"label in {args.agree:.0%} of them). Held-out: the 200 English held-out texts, with the cue agreeing, "
        "flipped, or absent.",
        "",
        f"Cue direction: difference of means of mean-pooled activations of the same {2 * args.balanced} "
        "label-balanced training texts with either cue appended, measured once on the base model at "
        f"`{SITES}` (each site its own vector; `incision.steer.contrast.diff_means`).",
        "",
        "- `baseline`: plain fine-tune.",
        "- `ablate`: `ablate_while_training(subject, direction)`: each site's vector projected out of that "
        "site's output (embeddings and every block) during training and evaluation.",
        "- `ablate_last`: the same, at the last block (`resid.5`, what the head reads) only.",
        f"- `reestimate_last`: as `ablate_last`, and every {args.every} steps the cue direction is measured again "
        "on the current model (with its ablation on) and added to the ablated span.",
        f"- `penalty`: `DirectionPenalty` at `resid.5`, weight {args.penalty}: "
        "weight x mean (pooled . r)^2 added to the loss.",
        "- `clean`: a reference, the plain fine-tune on the training texts without any cue.",
        "",
        f"Main conditions ran on seeds {args.seeds}; extra ones (`--extra`) on seed {args.seeds[0]} only.",
        "",
        "## Mean over seeds (min-max)",
        "",
        "| condition | seeds | in-distribution | cue-flipped | no cue |",
        "|---|---|---|---|---|",
    ]
    for c in conditions:
        cells = [
            f"{table[c][k]['mean']:.3f} ({table[c][k]['min']:.3f}-{table[c][k]['max']:.3f})" for k in EVALS
        ]
        lines.append(f"| {c} | {table[c]['n']} | " + " | ".join(cells) + " |")
    lines += ["", "Cue-flipped accuracy minus the baseline's, same seed:", ""]
    for c, g in gaps.items():
        lines.append(
            f"- `{c}`: {g['mean']:+.3f} (seeds {g['seeds']}: min {g['min']:+.3f}, max {g['max']:+.3f})"
        )
    lines += [
        "",
        "## Every run",
        "",
        "| condition | seed | in-distribution | cue-flipped | no cue | final train loss | directions | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['condition']} | {r['seed']} | {r['in_dist']:.3f} | {r['flipped']:.3f} | {r['no_cue']:.3f} "
            f"| {r['final_loss']} | {r['directions_ablated']} | {r['train_s']} |"
        )
    unhooked = [r for r in results if "flipped_unhooked" in r]
    if unhooked:
        lines += [
            "",
            "The ablating runs evaluated again with the hooks removed (the trained weights alone):",
            "",
            "| condition | seed | in-distribution | cue-flipped | no cue |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['condition']} | {r['seed']} | "
            + " | ".join(f"{r[k + '_unhooked']:.3f}" for k in EVALS)
            + " |"
            for r in unhooked
        ]
    lines += ["", "![held-out accuracy per condition](accuracy.png)", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--conditions", nargs="+", choices=CONDITIONS, default=["baseline", "ablate", "penalty"]
    )
    parser.add_argument(
        "--extra",
        nargs="*",
        choices=CONDITIONS,
        default=["ablate_last", "reestimate_last", "clean"],
        help="conditions run on the first seed only",
    )
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--agree", type=float, default=1.0, help="share of training rows whose cue agrees")
    parser.add_argument("--balanced", type=int, default=100, help="texts per label for the cue direction")
    parser.add_argument("--every", type=int, default=10, help="reestimate_last: steps between new directions")
    parser.add_argument("--penalty", type=float, default=1.0, help="penalty: its weight")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core CPU)"
    )
    parser.add_argument("--out", type=Path, default=Path("out/train_spurious"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    train, heldout = load_rows()
    balanced = [r for r in train if r["label"] == "positive"][: args.balanced]
    balanced += [r for r in train if r["label"] == "negative"][: args.balanced]
    data = {
        "train": with_cue(train, "agree", args.agree),
        "clean": with_cue(train, "none"),
        "in_dist": with_cue(heldout, "agree"),
        "flipped": with_cue(heldout, "flip"),
        "no_cue": with_cue(heldout, "none"),
    }
    args.subject = subject = incision.load(MODEL)
    base_state = {k: v.clone() for k, v in subject.model.state_dict().items()}
    base_dir = cue_direction(subject, balanced)
    log.info("cue direction norms: %s", {s: round(float(v.norm()), 3) for s, v in base_dir.vectors.items()})
    plan = [(c, s) for s in args.seeds for c in args.conditions]
    plan += [(c, args.seeds[0]) for c in args.extra if c not in args.conditions]
    results = []
    for condition, seed in plan:
        r = run(condition, seed, args, base_state, base_dir, data, balanced)
        log.info(
            "%-16s seed %d  in_dist %.3f  flipped %.3f  no_cue %.3f  (%ss)",
            condition,
            seed,
            r["in_dist"],
            r["flipped"],
            r["no_cue"],
            r["train_s"],
        )
        results.append(r)
    wall_s = time.perf_counter() - started
    conditions = list(dict.fromkeys(c for c, _ in plan))
    table = summarise(results, conditions)
    gaps = {c: g for c in conditions if c != "baseline" and (g := gap(results, c, "baseline"))}
    args.out.mkdir(parents=True, exist_ok=True)
    plot(results, conditions, args.out / "accuracy.png")
    text = report(args, results, table, conditions, gaps, wall_s)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "subject"}
    payload = {
        "settings": settings,
        "model": MODEL,
        "sites": SITES,
        "cues": [CUE_POS, CUE_NEG],
        "wall_s": round(wall_s, 1),
        "summary": table,
        "flipped_gap_vs_baseline": gaps,
        "runs": results,
    }
    (args.out / "results.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
