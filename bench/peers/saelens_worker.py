"""bench/sae_train.py's contender `sae-lens`: SAELens' TopKTrainingSAE, trained by its own SAETrainer one step at
a time, on activations read from a file. Runs in its own virtualenv (see `make bench-sae`):

    .venv-peers/saelens/bin/python bench/peers/saelens_worker.py --data ACTS.safetensors [--timed-steps 20]

Each step is what SAETrainer.fit does per batch, through its public seams: `maybe_reset_sparsity()`, then
`step(batch)` (activation scaler, TopKTrainingSAE.training_forward_pass with the dead-neuron mask, firing
statistics, backward, clip_grad_norm_(1.0), Adam step, zero_grad, lr scheduler), then the step counter;
fit's wandb logging, checkpoints and progress bar are off or left out. Everything else is its default:
TopKTrainingSAEConfig (rescale_acts_by_decoder_norm: the decoder is not renormalised, top-k runs on
pre-activations times the decoder row norms; dense activations, use_sparse_activations False; decoder rows
initialised at norm 0.1; aux_loss_coefficient 1; b_dec starts at 0), SAETrainerConfig (constant lr, Adam
betas 0.9/0.999, dead_feature_window 1000 steps, no autocast). Its loss is the squared error summed over
features and averaged over tokens (not normalised by the variance as the others).
"""

from __future__ import annotations

import torch
from common import load_batches, parse_args, report, run_steps
from sae_lens import SAETrainer, TopKTrainingSAE, TopKTrainingSAEConfig, __version__
from sae_lens.config import SAETrainerConfig


def main() -> None:
    args = parse_args()
    batches = load_batches(args)
    d_in = batches[0].shape[1]
    n_tokens = args.batch * len(batches)
    torch.manual_seed(args.seed)
    sae = TopKTrainingSAE(
        TopKTrainingSAEConfig(d_in=d_in, d_sae=args.d_sae, k=args.k, dtype="float32", device="cpu")
    )
    trainer_cfg = SAETrainerConfig(
        total_training_samples=n_tokens,
        train_batch_size_samples=args.batch,
        lr=args.lr,
        lr_end=args.lr / 10,  # its runner config's default; unused by the constant schedule
        device="cpu",
    )
    trainer = SAETrainer(cfg=trainer_cfg, sae=sae, data_provider=iter(batches))

    def step(x_BD: torch.Tensor):
        trainer.maybe_reset_sparsity()
        out = trainer.step(x_BD)
        trainer.n_training_steps += 1
        return out.sae_in, out.sae_out

    result = run_steps(args, batches, step)
    settings = {
        "optimizer": "torch.optim.Adam",
        "rescale_acts_by_decoder_norm": sae.cfg.rescale_acts_by_decoder_norm,
        "use_sparse_activations": sae.cfg.use_sparse_activations,
        "grad_clip_norm": 1.0,
    }
    print(report("sae-lens", __version__, args, result, settings=settings))


if __name__ == "__main__":
    main()
