"""What `incision grok` leaves behind: the curves as PNGs, the history as JSON, the model, and a report."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ...artifacts import save_folder
from .detect import Phases
from .progress import GrokRun


def write_outputs(run: GrokRun, final: dict, phases: Phases, out: Path, seconds: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    history = {
        "config": run.config.to_dict(),
        "looks": [look.to_dict() for look in run.looks],
        "final_key": final,
        "phases": phases.to_dict(),
        "seconds": seconds,
    }
    (out / "history.json").write_text(json.dumps(history, indent=1))
    cfg = {"format_version": 1, **run.config.to_dict()}
    save_folder(out / "model", cfg, run.model.state_dict(), "model.safetensors")
    _plot_curves(run, final, phases, out / "curves.png")
    _plot_fourier(run, phases, out / "fourier.png")
    report = out / "report.md"
    report.write_text(_markdown(run, final, phases, seconds))
    return report


def _marks(ax, phases: Phases) -> None:
    for step, colour, label in (
        (phases.memorised, "grey", "memorised"),
        (phases.detected, "tab:red", "detector fires"),
        (phases.grokked, "tab:green", "test accuracy jumps"),
    ):
        if step is not None:
            ax.axvline(step, color=colour, linestyle="--", linewidth=1, label=label)


def _plot_curves(run: GrokRun, final: dict, phases: Phases, path: Path) -> None:
    plt = _pyplot()
    steps = [look.step for look in run.looks]
    fig, (acc, loss, norm) = plt.subplots(1, 3, figsize=(16, 4.5))
    acc.plot(steps, [look.train_acc for look in run.looks], label="train")
    acc.plot(steps, [look.test_acc for look in run.looks], label="test")
    acc.set(title="accuracy", xlabel="step", ylim=(-0.02, 1.02))
    loss.plot(steps, [look.train_loss for look in run.looks], label="train")
    loss.plot(steps, [look.test_loss for look in run.looks], label="test")
    loss.plot(steps, final["restricted_loss"], label=f"restricted (key {final['key']})")
    loss.plot(steps, final["excluded_loss"], label="excluded (train)")
    loss.axhline(math.log(run.config.p), color="black", linewidth=0.5, linestyle=":", label="chance")
    loss.set(title="loss", xlabel="step", yscale="log")
    norm.plot(steps, [look.weight_norm for look in run.looks])
    norm.set(title="total weight norm", xlabel="step")
    for ax in (acc, loss, norm):
        _marks(ax, phases)
    acc.legend(fontsize=8)
    loss.legend(fontsize=8)
    fig.suptitle(f"modular addition, p={run.config.p}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_fourier(run: GrokRun, phases: Phases, path: Path) -> None:
    plt = _pyplot()
    steps = [look.step for look in run.looks]
    fig, (detector, share, norms) = plt.subplots(1, 3, figsize=(17, 4.5))
    detector.plot(steps, [look.excluded_loss_now for look in run.looks], color="tab:red")
    detector.axhline(phases.rule["threshold"], color="black", linewidth=0.8, linestyle=":", label="threshold")
    detector.set(title="detector input: train loss without the current key frequencies", xlabel="step")
    detector.set_yscale("symlog", linthresh=0.1)
    detector.set_ylim(bottom=0)
    share.plot(steps, [look.key_share_now for look in run.looks], label="logit energy in the key frequencies")
    share.plot(steps, [look.embed_gini for look in run.looks], label="Gini of embedding frequency norms")
    share.set(title="Fourier sparsity", xlabel="step", ylim=(0, 1))
    for ax in (detector, share):
        _marks(ax, phases)
    detector.legend(fontsize=8)
    share.legend(fontsize=8)
    last = run.looks[-1].embed_norms
    norms.bar(range(1, len(last) + 1), last)
    norms.set(title="embedding norm per frequency (final model)", xlabel="frequency k")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers
    import matplotlib.pyplot as plt

    return plt


def _markdown(run: GrokRun, final: dict, phases: Phases, seconds: float) -> str:
    cfg, last = run.config, run.looks[-1]

    def at(step):
        return "never" if step is None else f"step {step:,}"

    lead = (
        f"The detector fired **{phases.lead_steps:,} steps ({phases.lead_seconds:.0f} s of the run) before** test "
        "accuracy jumped."
        if phases.lead_steps is not None
        else "No lead is measured: the detector or the jump did not happen in this run (train for longer)."
    )
    return f"""# Grokking modular addition (p = {cfg.p})

One-layer transformer (d_model {cfg.d_model}, {cfg.n_heads} heads, d_mlp {cfg.d_mlp}, no layer norm), full-batch
AdamW (lr {cfg.lr}, weight decay {cfg.weight_decay}), {cfg.train_frac:.0%} of the {cfg.p**2:,} pairs for training,
{cfg.steps:,} steps, seed {cfg.seed}; measured every {cfg.every} steps. {seconds:.0f} s in all.

| event | when |
|---|---|
| memorised (train accuracy >= {phases.rule["memorised_acc"]}) | {at(phases.memorised)} |
| detector fires ({phases.rule["description"]}) | {at(phases.detected)} |
| test accuracy jumps (>= {phases.rule["grokked_acc"]}) | {at(phases.grokked)} |
| generalised (test accuracy >= 0.9) | {at(phases.generalised)} |

{lead}

Final: train accuracy {last.train_acc:.3f}, test accuracy {last.test_acc:.3f}, test loss {last.test_loss:.4f},
weight norm {last.weight_norm:.1f}. Key frequencies of the final model: {final["key"]}
(embedding Gini {last.embed_gini:.2f}; they carry {last.key_share_now:.0%} of the logits' centred energy).

- `curves.png`: accuracy; train, test, restricted and excluded loss (for the final key frequencies, as in
  Nanda et al. 2023); total weight norm.
- `fourier.png`: what the detector reads (the excluded loss for the current key frequencies), the Fourier
  sparsity of the logits and of the embedding, and the final embedding's norm per frequency.
- `history.json`: every look's measures; `model/`: the final weights (safetensors + cfg.json).
"""
