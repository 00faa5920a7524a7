"""Evaluate a saved probe on a labelled store: the labels and pooling it was trained with, its threshold."""

from __future__ import annotations

from ..core.store import ActivationStore
from ..errors import ConfigError
from .data import evaluation_data, features, padded_sequences
from .linear import LinearProbe
from .metrics import evaluate
from .streaming import predict_rows


def evaluate_probe(
    probe: LinearProbe,
    store: ActivationStore,
    where: tuple[str, str] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
):
    """Metrics of `probe` on every document of `store` (or those whose field `where[0]` is `where[1]`)."""
    site = probe.meta.get("site")
    if site not in store.sites:
        raise ConfigError(
            f"probe reads site {site!r}, which store {str(store.root)!r} lacks; it has {store.sites}"
        )
    model = probe.meta.get("model")
    if model is not None and model != store.model["name"]:
        raise ConfigError(
            f"probe was trained on model {model!r}, but the store holds {store.model['name']!r}"
        )
    if store.width(site) != probe.width:
        raise ConfigError(
            f"probe takes width {probe.width}, but site {site} of the store has {store.width(site)}"
        )
    data = evaluation_data(
        store,
        probe.label_names,
        level=probe.meta.get("level", "sequence" if probe.pooling else "token"),
        label_field=probe.meta.get("label_field", "label"),
        spans_field=probe.meta.get("spans_field"),
        include_special=bool(probe.meta.get("include_special", False)),
        where=where,
    )
    index = data.indices("eval")
    if probe.pooling is None:  # token rows: only the selected ones, a chunk at a time
        proba = predict_rows(store, site, data.rows_R[index], probe)
    elif probe.pooling == "attention":
        proba = probe.sequence_proba(*padded_sequences(store, site, data))[index].double().numpy()
    else:
        proba = probe.predict_proba(features(store, site, data, probe.pooling))[index].double().numpy()
    return evaluate(
        data.y_N[index],
        proba,
        probe.label_names,
        threshold=probe.threshold,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
