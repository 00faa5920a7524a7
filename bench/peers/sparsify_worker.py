"""bench/sae_train.py's contender `sparsify`: EleutherAI's SparseCoder (eai-sparsify), trained step by step as
its Trainer does with loss_fn="fvu" and optimizer="adam", on activations read from a file. Runs in its own
virtualenv (see `make bench-sae`):

    .venv-peers/sparsify/bin/python bench/peers/sparsify_worker.py --data ACTS.safetensors [--timed-steps 20]

Per step, as sparsify.trainer.Trainer.fit: b_dec set to the first batch's mean (step 0); decoder rows set to
unit norm; the forward pass with the dead-latent mask when auxk_alpha > 0 and the full batch's variance;
latents that fired recorded; loss = fvu + auxk_alpha * auxk_loss (+ multi_topk_fvu / 8, 0 here); backward;
the decoder gradient's component along each row removed; Adam step; zero_grad; tokens-since-fired counts
updated. What differs from its Trainer, on purpose, to match the other contenders: Adam at a constant lr
(its default is a 1000-step linear warm-up then a linear decay) and no scheduler; torch.optim.Adam (its
Trainer takes bitsandbytes' 8-bit Adam when that is installed; here it is not). Everything else is its default
(SparseCoderConfig: activation topk, normalize_decoder; TrainConfig: auxk_alpha 0, dead_feature_threshold 1e7).
Its CUDA-only paths (Triton decoder, bf16 autocast) are off on a CPU: it decodes with embedding_bag.
"""

from __future__ import annotations

import contextlib
import sys
from importlib.metadata import version

import torch
from common import load_batches, parse_args, report, run_steps

with contextlib.redirect_stdout(sys.stderr):  # it prints "Triton not installed..." on import
    from sparsify import SparseCoder, SparseCoderConfig, TrainConfig


def main() -> None:
    args = parse_args()
    batches = load_batches(args)
    d_in = batches[0].shape[1]
    train_defaults = TrainConfig(sae=SparseCoderConfig())  # auxk_alpha, dead_feature_threshold
    cfg = SparseCoderConfig(activation="topk", num_latents=args.d_sae, k=args.k)
    torch.manual_seed(args.seed)
    sae = SparseCoder(d_in, cfg, device="cpu", dtype=torch.float32)
    optimizer = torch.optim.Adam(sae.parameters(), lr=args.lr)
    tokens_since_fired = torch.zeros(sae.num_latents, dtype=torch.long)
    auxk_alpha, dead_after = train_defaults.auxk_alpha, train_defaults.dead_feature_threshold
    first = True

    def step(x_BD: torch.Tensor):
        nonlocal first
        if first:
            sae.b_dec.data = x_BD.mean(0).to(sae.dtype)
            first = False
        sae.set_decoder_norm_to_unit_norm()
        dead_mask = tokens_since_fired > dead_after if auxk_alpha > 0 else None
        total_variance = (x_BD - x_BD.mean(0)).pow(2).sum()
        out = sae(x=x_BD, y=x_BD, dead_mask=dead_mask, total_variance=total_variance)
        did_fire = torch.zeros(sae.num_latents, dtype=torch.bool)
        did_fire[out.latent_indices.flatten()] = True
        float(out.fvu.detach())  # its Trainer accumulates the metric as a float every step
        loss = out.fvu + auxk_alpha * out.auxk_loss + out.multi_topk_fvu / 8
        loss.backward()
        sae.remove_gradient_parallel_to_decoder_directions()
        optimizer.step()
        optimizer.zero_grad()
        with torch.no_grad():
            tokens_since_fired.add_(x_BD.shape[0])
            tokens_since_fired[did_fire] = 0
        return x_BD, out.sae_out

    result = run_steps(args, batches, step)
    settings = {"optimizer": "torch.optim.Adam", "auxk_alpha": auxk_alpha, "decoder": "embedding_bag"}
    print(report("sparsify", version("eai-sparsify"), args, result, settings=settings))


if __name__ == "__main__":
    main()
