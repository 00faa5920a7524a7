"""Sparse autoencoders: the model (variants topk, batchtopk, relu, jumprelu), its trainer and its folders.

Imports no transformers: everything here reads activation tensors [N, d_in]. The model-aware parts are
imported on their own: `incision.sae.sources` (training batches from a store or a live model),
`incision.sae.splice` (the next-token loss with an SAE spliced in), `incision.sae.inspection` and
`incision.sae.dashboard` (what features respond to, as records and as one HTML file),
`incision.sae.probe_features` and `incision.sae.probe_comparison` (probes on SAE features, and how they
compare with probes on the raw activations).
"""

from .config import SAEConfig
from .formats import load, load_sparsify, save
from .model import SAELosses, SAEOutput, SparseAutoencoder, geometric_median
from .train_log import LogContext
from .trainer import SAETrainConfig, TrainResult, train_sae
from .variants import VARIANTS, register

__all__ = [
    "VARIANTS",
    "LogContext",
    "SAEConfig",
    "SAELosses",
    "SAEOutput",
    "SAETrainConfig",
    "SparseAutoencoder",
    "TrainResult",
    "geometric_median",
    "load",
    "load_sparsify",
    "register",
    "save",
    "train_sae",
]
