"""Names in the package explain themselves: no module shadows the standard library, no two public classes
share a name, and a module's base name means one thing (read from the source: nothing is imported)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import incision

PACKAGE = Path(incision.__file__).parent

# Base names several modules may share, because each names the same role in its own package.
SHARED_BASENAMES = {
    "config": "the config dataclass of its package (sae/, serve/)",
    "records": "the record dataclasses of its package (pii/, probes/metrics/)",
    "report": "the report writer of its package (pii/, steer/, training/grokking/)",
    "train": "the training entry point of its package (pii/, probes/)",
    "monitor": "the monitor/ package and its main module monitor/monitor.py",
}


def _modules() -> list[Path]:
    """Every module file and package folder of incision, the package itself and `__init__`/`__main__` aside."""
    paths = [p for p in PACKAGE.rglob("*.py") if not p.stem.startswith("__")]
    return sorted(paths + [p.parent for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE])


def _name(path: Path) -> str:
    return path.stem if path.suffix == ".py" else path.name


def test_no_module_is_named_like_a_standard_library_module():
    shadowing = [str(p.relative_to(PACKAGE)) for p in _modules() if _name(p) in sys.stdlib_module_names]
    assert not shadowing, f"modules named like standard library ones: {shadowing}"


def test_module_base_names_mean_one_thing():
    by_name = defaultdict(list)
    for path in _modules():
        if "cli" in path.relative_to(PACKAGE).parts:
            continue  # the CLI's modules are named after the commands, i.e. after the packages they drive
        by_name[_name(path)].append(str(path.relative_to(PACKAGE)))
    shared = {name: where for name, where in by_name.items() if len(where) > 1}
    assert set(shared) <= set(SHARED_BASENAMES), {
        n: w for n, w in shared.items() if n not in SHARED_BASENAMES
    }


def test_no_two_public_classes_share_a_name():
    defined = defaultdict(list)
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                defined[node.name].append(str(path.relative_to(PACKAGE)))
    assert not {k: v for k, v in defined.items() if len(v) > 1}
