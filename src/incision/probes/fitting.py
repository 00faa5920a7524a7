"""Probe fitting in one place: from rows in memory (`fit_probe`, full-batch L-BFGS) or from any iterator of
batches (`fit_probe_stream`, minibatch AdamW), with one standardisation (`Standardizer`), class weights from
the training counts, a grid of penalties and one rule to choose among them (`choose_penalty`).

With a `reducer` over several processes, every process passes its own rows (training and validation) and
every sum (statistics, class counts, loss and gradient, validation loss) is reduced, so that each process
ends with the single-process probe. The default is the torch distributed group's reducer (`LOCAL` without
one); nothing here imports `incision.distributed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch

from ..errors import ConfigError, InputError
from ..reduce import LOCAL, Reducer, process_reducer
from . import adamw, solvers
from .linear import LinearProbe, check_activations, check_classes, check_l2, check_labels, class_weights
from .standardizer import Standardizer

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
VAL_ROWS = 65536  # validation rows scored per step when choosing a penalty


@dataclass
class ProbeFit:
    """A fitted probe, its penalty, and the validation log-loss of every penalty tried."""

    probe: LinearProbe
    l2: float | None  # None for a method without a penalty (difference of means)
    val_loss_by_l2: dict[float, float]  # empty without validation rows


@dataclass
class PenaltyChoice:
    """Which penalty of a grid won on validation, and every penalty's validation log-loss."""

    index: int  # in the grid as given
    l2: float
    val_loss_by_l2: dict[float, float]  # weighted mean log-loss on the validation rows, in the grid's order


def choose_penalty(
    l2s: Sequence[float],
    val_logits: Iterable[tuple[Sequence[torch.Tensor], torch.Tensor, torch.Tensor]],
    reducer: Reducer = LOCAL,
) -> PenaltyChoice:
    """The penalty whose probe has the lowest validation log-loss. `val_logits` yields, per batch of
    validation rows, the logits [B, C] of each penalty's probe (in `l2s`' order), the labels [B] and the
    example weights [B]. Equal losses go to the strongest penalty (the largest l2: the simplest probe)."""
    sums_L = torch.zeros(len(l2s) + 1, dtype=torch.float64)  # weighted cross-entropies, then the weights
    for logits, y_B, weight_B in val_logits:
        for k, logits_BC in enumerate(logits):
            sums_L[k] += solvers.weighted_loss(logits_BC, y_B, weight_B.to(logits_BC.dtype)).double()
        sums_L[-1] += weight_B.double().sum()
    sums_L = reducer.sum(sums_L)
    if not sums_L[-1] > 0:
        raise InputError("the validation rows are empty (or weigh nothing); a penalty cannot be chosen")
    losses = {float(l2): float(total / sums_L[-1]) for l2, total in zip(l2s, sums_L[:-1], strict=True)}
    best = min(range(len(l2s)), key=lambda k: (losses[float(l2s[k])], -l2s[k]))
    return PenaltyChoice(best, float(l2s[best]), losses)


def fit_probe(
    x_ND: torch.Tensor,
    y_N,
    l2s: Sequence[float] = (1.0,),
    *,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    class_weight: str | None = None,
    label_names: list[str] | None = None,
    max_iter: int = 500,
    meta: dict | None = None,
    reducer: Reducer | None = None,
) -> ProbeFit:
    """Full-batch L-BFGS on rows in memory: in float64 up to `solvers.FLOAT64_MAX_VALUES` training values
    (scikit-learn parity), in float32 above (the preconditioned solver, one process only). `y_N` holds class
    indices 0..C-1; "balanced" weights class c by n / (C * count_c) over the training rows, as scikit-learn.
    Penalties are fitted strongest first, each solution starting the next; `val` (rows, labels) scores them."""
    reducer = reducer or process_reducer()
    _check_grid(l2s, val is not None)
    x, features = _in_memory_features(x_ND, reducer)
    y, counts_C = check_labels(y_N, x.shape[0], label_names, reducer)
    per_class_C = class_weights(counts_C, class_weight)
    solutions = _lbfgs_grid(x, y, len(counts_C), l2s, per_class_C[y], features, max_iter, reducer)
    choice = _choose(l2s, solutions, features, per_class_C, _val_batches(val, x.dtype), reducer)
    labels = label_names or len(counts_C)
    probe = LinearProbe.from_solution(
        solutions[choice.index], features.mean_D, features.std_D, labels, meta=meta
    )
    return ProbeFit(probe, choice.l2, choice.val_loss_by_l2)


def _lbfgs_grid(x, y, n_classes, l2s, sample_weight_N, features: Standardizer, max_iter, reducer):
    """One L-BFGS solution per penalty (in `l2s`' order), fitted strongest first, each starting the next."""
    if x.dtype == torch.float64:  # a standardised copy; float32 is standardised chunk by chunk in the solver
        x, shift_D, scale_D = (x - features.mean_D) / features.std_D, None, None
    else:
        shift_D, scale_D = features.mean_D.float(), features.std_D.float()
    solutions, solution = {}, None
    for l2 in sorted(l2s, reverse=True):
        options = {"init": solution, "max_iter": max_iter, "shift_D": shift_D, "scale_D": scale_D}
        solution = solvers.lbfgs(x, y, n_classes, l2, sample_weight_N, reducer=reducer, **options)
        solutions[l2] = solution
    return [solutions[l2] for l2 in l2s]


@dataclass
class StreamStatistics:
    """What one pass over the training batches tells a streamed fit (over every process's rows)."""

    features: Standardizer
    class_counts_C: torch.Tensor  # float64 rows per class
    n_batches: int  # batches per pass (the same on every process)

    @classmethod
    def of(cls, batches: Batches, reducer: Reducer = LOCAL) -> StreamStatistics:
        features, counts_C, n_batches = None, torch.zeros(0, dtype=torch.float64), 0
        for x_BD, y_B in batches:
            counts = _check_batch(x_BD, y_B, n_batches, features)
            features = (features or Standardizer.empty(x_BD.shape[1], x_BD.device)).update(x_BD)
            counts_C, n_batches = _pad(counts, len(counts_C)) + _pad(counts_C, len(counts)), n_batches + 1
        if features is None:
            raise InputError("the training batches are empty; a probe needs rows to learn from")
        n_classes = int(reducer.max(torch.tensor(len(counts_C))))
        return cls(features.reduce(reducer), reducer.sum(_pad(counts_C, n_classes)), n_batches)


def fit_probe_stream(
    batches: Batches | Callable[[int], Batches],
    val_batches: Batches | None = None,
    l2s: Sequence[float] = (1.0,),
    *,
    class_weight: str | None = None,
    label_names: list[str] | None = None,
    epochs: int = 4,
    lr: float = 1e-2,
    statistics: StreamStatistics | None = None,
    reducer: Reducer | None = None,
) -> ProbeFit:
    """Minibatch AdamW over any iterator of (activations [B, D], class indices [B]) batches: a store, a live
    model, a list. A probe per penalty is trained side by side (reading is the cost); `val_batches` scores
    them. `batches` is read once for the statistics (unless given: a store reads them faster in order) and
    once per epoch, so it must be re-iterable (a list, an object whose `__iter__` starts a new pass) or a
    function `epoch -> iterable` (e.g. a new shuffle per epoch). With a reducer over several processes, each
    iterator yields this process's share of every batch, the same number of batches on every process."""
    reducer = reducer or process_reducer()
    _check_grid(l2s, val_batches is not None)
    epoch_batches = _passes(batches)
    stats = statistics or StreamStatistics.of(epoch_batches(0), reducer)
    features, counts_C = stats.features, stats.class_counts_C
    if not features.finite():
        raise InputError("the training rows hold NaN or inf; drop or recapture them")
    counts_C = _pad(counts_C, len(label_names or []))
    check_classes(counts_C, label_names)
    n_classes, per_class_C = len(counts_C), class_weights(counts_C, class_weight).float()
    mean_D, std_D = features.mean_D.float(), features.std_D.float()

    def standardised(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for x_BD, y_B in epoch_batches(epoch):
            y = torch.as_tensor(y_B).long()
            yield (x_BD.float() - mean_D) / std_D, y, per_class_C[y]

    width, n_rows = len(mean_D), int(features.count)
    options = {"steps_per_epoch": stats.n_batches, "reducer": reducer}
    solutions = adamw.adamw_stream(standardised, width, n_classes, list(l2s), n_rows, epochs, lr, **options)
    choice = _choose(l2s, solutions, features, per_class_C, val_batches, reducer)
    best = solutions[choice.index]
    probe = LinearProbe.from_solution(best, features.mean_D, features.std_D, label_names or n_classes)
    return ProbeFit(probe, choice.l2, choice.val_loss_by_l2)


def _choose(l2s, solutions, features: Standardizer, per_class_C, val_batches, reducer) -> PenaltyChoice:
    """The penalty choice on validation batches of raw rows; the only penalty when there are none."""
    if val_batches is None:
        return PenaltyChoice(0, float(l2s[0]), {})

    def val_logits():
        for x_BD, y_B in val_batches:
            x = x_BD if x_BD.dtype == torch.float64 else x_BD.float()
            z = (x - features.mean_D.to(x.dtype)) / features.std_D.to(x.dtype)
            logits = [z @ s.weight_CD.T.to(x.dtype) + s.bias_C.to(x.dtype) for s in solutions]
            y = torch.as_tensor(y_B).long()
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= len(per_class_C)):
                found = f"{int(y.min())}..{int(y.max())}"
                raise InputError(f"validation labels must be classes 0..{len(per_class_C) - 1}, got {found}")
            yield logits, y, per_class_C[y]

    return choose_penalty(l2s, val_logits(), reducer)


def _in_memory_features(x_ND, reducer: Reducer) -> tuple[torch.Tensor, Standardizer]:
    """The training rows in the solver's precision and their statistics over every process."""
    x = torch.as_tensor(x_ND)
    if x.ndim != 2 or not x.is_floating_point():
        x = check_activations(x)  # a bad shape raises; integers become float64
    n_rows = int(reducer.sum(torch.tensor(x.shape[0])))
    if solvers.fits_in_float64(n_rows * x.shape[1]):
        x = check_activations(x)
        return x, Standardizer.of(x).reduce(reducer)
    if reducer.size > 1:
        raise ConfigError(
            f"distributed fit runs in float64, up to {solvers.FLOAT64_MAX_VALUES} values, got {n_rows} x "
            f"{x.shape[1]}; use the streamed AdamW solver (train_probe solver='adamw')"
        )
    x = x.float()  # no float64 or standardised copy: the solver standardises chunk by chunk
    features = solvers.statistics(x)
    if not features.finite():
        check_activations(x)  # raises, counting the rows that hold NaN or inf
    return x, features


def _val_batches(val, dtype: torch.dtype) -> Iterator[tuple[torch.Tensor, torch.Tensor]] | None:
    """In-memory validation rows, checked, in chunks of VAL_ROWS."""
    if val is None:
        return None
    x_val, y_val = torch.as_tensor(val[0]), torch.as_tensor(val[1])
    if x_val.ndim != 2 or not bool(torch.isfinite(x_val).all()):  # one process's share may be empty
        check_activations(x_val, "in the validation rows")  # raises, saying what is wrong
    if y_val.shape != (x_val.shape[0],):
        raise InputError(f"validation labels must be a vector of {x_val.shape[0]}, got {list(y_val.shape)}")
    chunks = range(0, len(y_val), VAL_ROWS)
    return ((x_val[lo : lo + VAL_ROWS].to(dtype), y_val[lo : lo + VAL_ROWS]) for lo in chunks)


def _check_grid(l2s: Sequence[float], has_val: bool) -> None:
    if not len(l2s):
        raise ConfigError("l2s is empty; give at least one penalty")
    for l2 in l2s:
        check_l2(l2)
    if len(l2s) > 1 and not has_val:
        raise ConfigError(f"choosing among {len(l2s)} penalties needs validation rows; pass them or one l2")


def _check_batch(x_BD, y_B, index: int, features: Standardizer | None) -> torch.Tensor:
    """A training batch of the statistics pass (float activations [B, D] of one width, finite, and labels);
    returns its rows per class."""
    width = features.mean_D.shape[0] if features is not None else None
    if not isinstance(x_BD, torch.Tensor) or x_BD.ndim != 2 or (width and x_BD.shape[1] != width):
        shape = list(x_BD.shape) if isinstance(x_BD, torch.Tensor) else type(x_BD).__name__
        raise InputError(f"training batch {index} must be activations [B, {width or 'D'}], got {shape}")
    bad = int((~torch.isfinite(x_BD)).any(dim=1).sum()) if x_BD.is_floating_point() else 0
    if bad or not x_BD.is_floating_point():
        raise InputError(f"training batch {index} holds {bad} rows of NaN or inf (or no floats); drop them")
    return check_labels(y_B, x_BD.shape[0], None, LOCAL, one_class_ok=True)[1]


def _pad(counts_C: torch.Tensor, n: int) -> torch.Tensor:
    """Counts for at least `n` classes (zeros appended)."""
    return torch.cat([counts_C, counts_C.new_zeros(max(0, n - len(counts_C)))])


def _passes(batches) -> Callable[[int], Batches]:
    """`epoch -> iterable` for a function or a re-iterable; a one-shot iterator is refused."""
    if callable(batches):
        return batches
    if isinstance(batches, Iterator):
        raise ConfigError(
            "batches is a one-shot iterator (a generator?); a probe reads it once per epoch: pass a list, "
            "a re-iterable, or a function epoch -> iterable"
        )
    return lambda epoch: batches
