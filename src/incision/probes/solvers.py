"""Solvers for linear probes on standardised activations.

Every solver minimises the same objective, the one scikit-learn's `LogisticRegression(C=1 / l2)` uses:
`sum_i w_i * cross_entropy_i + l2 / 2 * ||W||^2` (bias not penalised), scaled by 1 / N so that its size
does not depend on N (the minimiser is unchanged). Binary problems have one output, softmax problems one
per class. Nothing here knows about models, stores or sites. With a `reducer` over processes (each holding
its own rows), the data terms of the loss and gradient are summed over processes, so that every process
takes the same steps to the single-process solution. The minibatch solvers (streamed, attention pooling)
are in adamw.py.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ..reduce import LOCAL, Reducer, sum_into_
from .standardizer import Standardizer

# Up to this many feature values (training rows x width) a fit runs in float64 (scikit-learn parity to 1e-3);
# above, in float32 with the preconditioned solver (~5e-4 from the float64 optimum, several times faster).
FLOAT64_MAX_VALUES = 2_000_000


def fits_in_float64(n_values: int) -> bool:
    """Whether a fit on `n_values` feature values runs in float64 (else float32): see FLOAT64_MAX_VALUES."""
    return n_values <= FLOAT64_MAX_VALUES


@dataclass
class Solution:
    weight_CD: torch.Tensor
    bias_C: torch.Tensor


def n_outputs(n_classes: int) -> int:
    return 1 if n_classes == 2 else n_classes


def weighted_loss(logits_NC: torch.Tensor, y_N: torch.Tensor, sample_weight_N: torch.Tensor) -> torch.Tensor:
    """Summed (weighted) cross-entropy: sigmoid for one output, softmax for several."""
    if logits_NC.shape[1] == 1:
        losses = F.binary_cross_entropy_with_logits(
            logits_NC[:, 0], y_N.to(logits_NC.dtype), reduction="none"
        )
    else:
        losses = F.cross_entropy(logits_NC, y_N, reduction="none")
    return (losses * sample_weight_N).sum()


def reduced_backward(
    data_sum: torch.Tensor, penalty: torch.Tensor, params: list, n: float, reducer: Reducer = LOCAL
) -> torch.Tensor:
    """Backward of the objective `(sum of the data terms of every process's rows) / n + penalty`, where
    `data_sum` is this process's sum: the data gradients are summed over processes and the penalty's added
    once, so every process holds the whole gradient. Returns the objective (detached)."""
    (data_sum / n).backward()
    sum_into_([p.grad for p in params], reducer)
    penalty.backward()
    return reducer.sum(data_sum.detach()) / n + penalty.detach()


def lbfgs(
    z_ND: torch.Tensor,
    y_N: torch.Tensor,
    n_classes: int,
    l2: float,
    sample_weight_N: torch.Tensor,
    init: Solution | None = None,
    max_iter: int = 500,
    tolerance: float | None = None,
    shift_D: torch.Tensor | None = None,
    scale_D: torch.Tensor | None = None,
    reducer: Reducer = LOCAL,
) -> Solution:
    """Full-batch L-BFGS, in `z_ND`'s precision; stops once every gradient entry is within `tolerance`.

    With `shift_D` and `scale_D`, `z_ND` holds raw activations, standardised as `(z - shift) / scale`.
    float64 (the default for small inputs): torch's L-BFGS with a strong-Wolfe line search to 1e-9, which
    matches scikit-learn to 1e-3 in probability. Any other precision (big inputs): `_preconditioned_lbfgs`,
    in float32 and to 1e-5 unless told otherwise.
    With a `reducer` over several processes, each holds its own rows (float64 only).
    """
    if z_ND.dtype != torch.float64:
        if reducer.size > 1:
            raise ConfigError(
                f"distributed L-BFGS runs in float64 only, got {z_ND.dtype}; use the streamed AdamW solver"
            )
        args = (z_ND.float(), y_N, n_classes, l2, sample_weight_N, init, max_iter, tolerance or 1e-5)
        return _preconditioned_lbfgs(*args, shift_D, scale_D)
    tolerance = tolerance or 1e-9
    if shift_D is not None:
        z_ND = (z_ND - shift_D) / scale_D
    dtype = z_ND.dtype
    n = int(reducer.sum(torch.tensor(z_ND.shape[0])))
    shape = (n_outputs(n_classes), z_ND.shape[1])
    weight = (init.weight_CD.to(dtype) if init else torch.zeros(shape, dtype=dtype)).clone().requires_grad_()
    bias = (init.bias_C.to(dtype) if init else torch.zeros(shape[0], dtype=dtype)).clone().requires_grad_()
    sample_weight = sample_weight_N.to(dtype)
    optimizer = torch.optim.LBFGS(
        [weight, bias],
        max_iter=max_iter,
        tolerance_grad=tolerance,
        tolerance_change=tolerance * 1e-3,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimizer.zero_grad()
        data = weighted_loss(z_ND @ weight.T + bias, y_N, sample_weight)
        return reduced_backward(data, 0.5 * l2 * weight.pow(2).sum() / n, [weight, bias], n, reducer)

    optimizer.step(closure)
    return Solution(weight.detach(), bias.detach())


_CHUNK_VALUES = 1 << 20  # 4 MB of float32 per chunk: stays in cache while it is standardised and used
_SUBSAMPLE_ROWS = 20_000  # at least; and at least the preconditioner's rows
_PRECONDITIONER_ROWS = 5_000  # at least; and 4 per feature, else its small eigenvalues come out far too small
_PRECONDITIONER_MAX_WIDTH = 4096  # its estimate costs ~8 width^3 flops (0.5 TFLOP here); wider: none
_HISTORY = 10


def _preconditioned_lbfgs(x_ND, y_N, n_classes, l2, sample_weight_N, init, max_iter, tolerance, shift, scale):
    """L-BFGS for big inputs, in float32 with float64 parameters and sums. It spends its passes over the data
    where they count; the minimiser and the stopping rule (max |gradient| <= tolerance) are the usual ones.

    - Every pass reads `x_ND` in cache-sized chunks, standardising each chunk on the fly, and computes the
      loss and its gradient together: one read of the data per evaluation and no standardised copy of it.
      The rows are split in one block per torch thread (see `_row_blocks`).
    - Preconditioning: L-BFGS runs in coordinates u = L^T theta, where L L^T is the Hessian at the starting
      point estimated on a few thousand random rows (theta = weights and bias). Standardised activations
      are strongly correlated; in these coordinates the problem is close to round and a unit step is nearly
      a Newton step, so few iterations are needed (9 passes instead of 40 on the benchmark's task).
    - Warm start: the same objective with the data term averaged over a random subsample (the penalty kept
      at l2 / N) is minimised first, at a tenth of the cost per pass; its curvature pairs are kept.
    - Tolerance 1e-5 by default, ten times tighter than scikit-learn's default on the same gradient.
      Probabilities then lie within ~5e-4 of the float64 optimum on the benchmark's 200k x 640 task, and
      within ~2e-2 on nearly separable, ill-conditioned data (1e-3 at tolerance 1e-6, for 25-50% more
      passes). Float32 sets the floor: once the decrease a step promises is within the rounding noise of
      the loss (~1e-9 of it), it stops, whatever the tolerance.
    """
    n, width = x_ND.shape
    n_out = n_outputs(n_classes)
    y = y_N.long()
    target = y.to(torch.float32) if n_out == 1 else y
    sample_weight = sample_weight_N.to(torch.float32)
    if shift is not None:
        shift, inv_scale = shift.to(torch.float32), 1 / scale.to(torch.float32)
    else:
        inv_scale = None
    theta = torch.zeros(width + 1, n_out, dtype=torch.float64)  # rows: weight.T, then bias
    if init is not None:
        theta[:width], theta[width] = init.weight_CD.double().T, init.bias_C.double()
    else:  # the best bias for zero weights: the (weighted) log-odds of the classes
        prior = torch.zeros(n_classes, dtype=torch.float64).index_add_(0, y, sample_weight.double())
        prior = (prior / prior.sum()).clamp_min(1e-8)  # a class may be absent (multiclass)
        theta[width] = (prior[1] / prior[0]).log() if n_out == 1 else prior.log()

    def block_sums(x, standardise, y, weight, weight32, bias32, start, end):
        """Summed loss and gradient of the data terms over rows start..end, chunk by chunk."""
        loss, grad = torch.zeros((), dtype=torch.float64), torch.zeros(width + 1, n_out, dtype=torch.float64)
        step = max(1, _CHUNK_VALUES // width)
        for lo in range(start, end, step):
            hi = min(lo + step, end)
            z = (x[lo:hi] - shift).mul_(inv_scale) if standardise else x[lo:hi]
            logits = torch.addmm(bias32, z, weight32)
            y_c, w_c = y[lo:hi], weight[lo:hi]
            if n_out == 1:
                loss += F.binary_cross_entropy_with_logits(logits[:, 0], y_c, w_c, reduction="sum").double()
                residual = (torch.sigmoid(logits) - y_c[:, None]).mul_(w_c[:, None])
            else:
                loss += (F.cross_entropy(logits, y_c, reduction="none") * w_c).sum().double()
                residual = torch.softmax(logits, dim=1)
                residual[torch.arange(len(y_c)), y_c] -= 1
                residual.mul_(w_c[:, None])
            grad[:width] += (z.T @ residual).double()
            grad[width] += residual.sum(0).double()
        return loss, grad

    def loss_and_grad(x, standardise, y, weight, theta, penalty, n_rows):
        weight32, bias32 = theta[:width].float(), theta[width].float()
        parts = map_rows(
            lambda start, end: block_sums(x, standardise, y, weight, weight32, bias32, start, end), len(x)
        )
        loss, grad = sum(part[0] for part in parts), sum(part[1] for part in parts)
        w = theta[:width]
        grad[:width] += penalty * w
        return float(loss + 0.5 * penalty * w.pow(2).sum()) / n_rows, grad / n_rows

    n_hessian = max(_PRECONDITIONER_ROWS, 4 * width) if width <= _PRECONDITIONER_MAX_WIDTH else 0
    n_sub = max(_SUBSAMPLE_ROWS, n_hessian)
    generator = torch.Generator().manual_seed(0)
    rows = torch.randperm(n, generator=generator)[:n_sub].sort().values
    sub_x = x_ND.index_select(0, rows)
    if shift is not None:
        sub_x.sub_(shift).mul_(inv_scale)
    sub_y, sub_weight = target[rows], sample_weight[rows]

    # preconditioner: the Hessian of the mean loss at the start, on every k-th row of the (random) subsample
    # and shared by all classes for softmax, plus the penalty's l2 / N; `chol` is its Cholesky factor
    if width <= _PRECONDITIONER_MAX_WIDTH:
        every = max(1, len(rows) // n_hessian)
        a = sub_x[::every][:n_hessian]
        a = torch.cat([a, torch.ones(len(a), 1)], dim=1)
        logits = (a @ theta.float()).double()
        p = torch.sigmoid(logits) if n_out == 1 else torch.softmax(logits, dim=1)
        curvature = (p * (1 - p)).mean(1) * sub_weight[::every][: len(a)].double()
        a = a * curvature.float().sqrt()[:, None]
        hessian = (a.T @ a).double() / len(a)
        hessian.diagonal()[:width] += l2 / n
        hessian.diagonal().add_(1e-8 * hessian.diagonal().mean())  # stays positive definite
        chol = torch.linalg.cholesky(hessian)
    else:
        chol = torch.eye(width + 1, dtype=torch.float64)

    history: list[tuple[torch.Tensor, torch.Tensor]] = []  # (step, gradient change) in u coordinates

    def minimise(x, standardise, labels, weights, penalty, n_rows, tol):
        nonlocal theta
        loss, grad = loss_and_grad(x, standardise, labels, weights, theta, penalty, n_rows)
        u, grad_u = chol.T @ theta, torch.linalg.solve_triangular(chol, grad, upper=False)
        for _ in range(max_iter):
            if grad.abs().max() <= tol:
                return
            direction, alphas = grad_u.clone(), []  # two-loop recursion
            for s, d in reversed(history):
                alpha = (s * direction).sum() / (s * d).sum()
                direction -= alpha * d
                alphas.append(alpha)
            if history:
                s, d = history[-1]
                direction *= (s * d).sum() / (d * d).sum()
            for (s, d), alpha in zip(history, reversed(alphas), strict=True):
                direction += s * (alpha - (d * direction).sum() / (s * d).sum())
            direction = -direction
            slope = (grad_u * direction).sum()
            if slope >= 0:  # not a descent direction: forget the history
                history.clear()
                direction, slope = -grad_u, -(grad_u * grad_u).sum()
            if -slope < 1e-9 * abs(loss):
                return  # the predicted decrease is within the float32 noise of the loss
            step = 1.0
            for _ in range(10):  # backtracking to sufficient decrease
                new_u = u + step * direction
                new_theta = torch.linalg.solve_triangular(chol.T, new_u, upper=True)
                new_loss, new_grad = loss_and_grad(
                    x, standardise, labels, weights, new_theta, penalty, n_rows
                )
                if new_loss <= loss + 1e-4 * step * slope:
                    break
                step /= 2
            else:
                return  # no decrease at float32 resolution: as close as this precision gets
            new_grad_u = torch.linalg.solve_triangular(chol, new_grad, upper=False)
            s, d = new_u - u, new_grad_u - grad_u
            if (s * d).sum() > 1e-10 * (d * d).sum():
                history.append((s, d))
                del history[:-_HISTORY]
            u, grad_u, theta, loss, grad = new_u, new_grad_u, new_theta, new_loss, new_grad

    with _row_blocks() as map_rows:
        if n >= 4 * n_sub:  # to 1e-3: the subsample's gradient is ~3e-3 off the full one anyway
            minimise(sub_x, False, sub_y, sub_weight, l2 * len(rows) / n, len(rows), max(tolerance, 1e-3))
        minimise(x_ND, shift is not None, target, sample_weight, l2, n, tolerance)
    return Solution(theta[:width].T.contiguous(), theta[width].clone())


def statistics(x_ND: torch.Tensor) -> Standardizer:
    """The `Standardizer` of in-memory rows, read in cache-sized chunks over the torch threads (see
    `_row_blocks`), without a float64 or a centred copy of `x_ND`."""
    step = max(1, _CHUNK_VALUES // max(1, x_ND.shape[1]))

    def block(start, end):
        part = Standardizer.empty(x_ND.shape[1], x_ND.device)
        for lo in range(start, end, step):
            part.update(x_ND[lo : min(lo + step, end)])
        return part

    with _row_blocks() as map_rows:
        parts = map_rows(block, x_ND.shape[0])
    return functools.reduce(Standardizer.merge, parts)


@contextmanager
def _row_blocks():
    """Yields `map_rows(fn, n)`: [fn(start, end)] over contiguous blocks of n rows, one block per torch
    thread, run side by side in Python threads that each give torch a single intra-op thread (the count is
    process-wide; it is restored after). A loop over small chunks then synchronises once per pass: with
    torch's own threads every small op ends in a barrier, which stalls whenever another process holds a
    core; on a busy 2-core machine that made these loops 5-15x slower."""
    workers = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers) as pool:

            def map_rows(fn, n):
                bounds = [n * k // workers for k in range(workers + 1)]
                return list(pool.map(fn, bounds[:-1], bounds[1:]))

            yield map_rows
    finally:
        torch.set_num_threads(workers)
