"""Input checks shared by the metrics: arrays, labels, probabilities and options, with clear errors."""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError, InputError


def _array(x, name: str, ndim: int) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor; bfloat16 has no numpy dtype, so widen floats first
        x = x.detach().cpu()
        x = x.double() if x.is_floating_point() else x
    try:
        a = np.asarray(x)
    except ValueError:  # ragged nested lists
        raise InputError(
            f"{name} must be a rectangular array of numbers, got a ragged {type(x).__name__}"
        ) from None
    if a.ndim != ndim or a.size == 0:
        want = "a non-empty vector" if ndim == 1 else f"a non-empty {ndim}-D array"
        raise InputError(f"{name} must be {want}, got shape {list(a.shape)}")
    if a.dtype.kind not in "biuf":  # bool, integers, floats
        raise InputError(f"{name} must hold real numbers, got dtype {a.dtype}")
    return a


def _no_nan(a: np.ndarray, name: str) -> np.ndarray:
    nan = np.flatnonzero(np.isnan(a).reshape(len(a), -1).any(1))
    if nan.size:
        raise InputError(
            f"{name} holds NaN at row {nan[0]} ({nan.size} rows in all); drop or fix those examples"
        )
    return a


def _scores(x, name: str) -> np.ndarray:
    return _no_nan(_array(x, name, 1).astype(np.float64), name)


def _in_unit_interval(a: np.ndarray, name: str) -> np.ndarray:
    bad = np.flatnonzero(((a < 0) | (a > 1)).ravel())
    if bad.size:
        raise InputError(f"{name} must hold probabilities in [0, 1], got {a.ravel()[bad[0]]!r}")
    return a


def _labels(x, name: str, n_classes: int) -> np.ndarray:
    a = _array(x, name, 1)
    whole = np.isfinite(a) & (a == np.round(a)) if a.dtype.kind == "f" else np.ones(len(a), bool)
    bad = np.flatnonzero(~whole | (a < 0) | (a >= n_classes))
    if bad.size:
        raise InputError(f"{name} must hold class indices 0..{n_classes - 1}, got {a[bad[0]].item()!r}")
    return a.astype(np.int64)


def _same_length(**arrays: np.ndarray) -> None:
    (name0, a0), *rest = arrays.items()
    for name, a in rest:
        if len(a) != len(a0):
            raise InputError(f"{name0} has {len(a0)} examples but {name} has {len(a)}")


def _binary_inputs(y_true_N, p_N, p_name: str = "p_N", probabilities: bool = True):
    y = _labels(y_true_N, "y_true_N", 2)
    p = _scores(p_N, p_name)
    _same_length(y_true_N=y, **{p_name: p})
    return y, (_in_unit_interval(p, p_name) if probabilities else p)


def _multiclass_inputs(y_true_N, proba_NC, label_names):
    proba = _array(proba_NC, "proba_NC", 2).astype(np.float64)
    if proba.shape[1] < 2:
        raise InputError(f"proba_NC must have a column per class (C >= 2), got shape {list(proba.shape)}")
    if len(label_names) != proba.shape[1]:
        raise InputError(f"{len(label_names)} label names for {proba.shape[1]} probability columns")
    if len({str(name) for name in label_names}) != len(label_names):
        raise InputError(f"label names must be distinct, got {list(label_names)!r}")
    _in_unit_interval(_no_nan(proba, "proba_NC"), "proba_NC")
    sums = proba.sum(1)
    off = np.flatnonzero(np.abs(sums - 1) > 1e-2)  # loose enough for a float16 softmax over many classes
    if off.size:
        raise InputError(f"proba_NC rows must sum to 1, row {off[0]} sums to {sums[off[0]]:.6g}")
    y = _labels(y_true_N, "y_true_N", proba.shape[1])
    _same_length(y_true_N=y, proba_NC=proba)
    return y, proba


def _check_options(n_bootstrap: int, confidence: float) -> None:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 0:
        raise ConfigError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap!r}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
