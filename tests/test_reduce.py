"""The seam between math objects and distribution: LOCAL is the identity, and the math objects never
import incision.distributed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

import incision
from incision.reduce import LOCAL, local_rows, sum_into_

MATH_OBJECTS = (
    "incision.probes.linear",
    "incision.sae.model",
    "incision.sae.variants",
    "incision.sae.topk_kernels",
)


def test_math_objects_import_nothing_of_distribution():
    """A fresh interpreter imports the probe, the SAE and its variants (and their packages) without loading
    incision.distributed: the trainers hand the math objects a reducer instead."""
    src = str(Path(incision.__file__).parents[1])  # this checkout's package, whatever is installed
    code = (
        f"import sys; sys.path.insert(0, {src!r})\n"
        f"for name in {MATH_OBJECTS!r}: __import__(name)\n"
        "print(sorted(name for name in sys.modules if name.startswith('incision.distributed')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_local_reducer_is_the_identity():
    x = torch.arange(6.0).reshape(3, 2)
    assert LOCAL.sum(x) is x and LOCAL.max(x) is x and LOCAL.min(x) is x and LOCAL.cat(x) is x
    assert (LOCAL.rank, LOCAL.size) == (0, 1) and local_rows(5, LOCAL) == slice(0, 5)
    grads = [x.clone(), torch.ones(4)]
    sum_into_(grads, LOCAL)
    assert torch.equal(grads[0], x) and torch.equal(grads[1], torch.ones(4))
