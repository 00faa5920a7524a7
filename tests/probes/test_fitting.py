"""Choosing a penalty: validation log-loss of each candidate, the lowest wins, ties go to the strongest."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from incision import InputError
from incision.probes.fitting import choose_penalty


def test_lowest_weighted_log_loss_wins_and_ties_go_to_the_strongest_penalty():
    y = torch.tensor([0, 1, 1, 0])
    weight = torch.tensor([1.0, 2.0, 1.0, 1.0])
    good, bad = torch.tensor([[-2.0], [2.0], [1.0], [-1.0]]), torch.zeros(4, 1)
    halves = (slice(0, 2), slice(2, 4))
    batches = [([bad[h], good[h], good[h]], y[h], weight[h]) for h in halves]
    choice = choose_penalty([0.1, 1.0, 10.0], batches)
    expected = float(
        (F.binary_cross_entropy_with_logits(good[:, 0], y.float(), reduction="none") * weight).sum() / 5
    )
    assert choice.val_loss_by_l2 == pytest.approx(
        {0.1: float(torch.log(torch.tensor(2.0))), 1.0: expected, 10.0: expected}
    )
    assert list(choice.val_loss_by_l2) == [0.1, 1.0, 10.0]  # the grid's order
    assert (choice.index, choice.l2) == (2, 10.0)  # 1.0 and 10.0 tie: the stronger penalty, the simpler probe
    with pytest.raises(InputError, match="validation rows are empty"):
        choose_penalty([1.0], [])
