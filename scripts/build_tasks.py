"""Build the bundled probe tasks, src/incision/data/tasks/{harmful,sentiment}.jsonl, from scripts/tasks/.

    python scripts/build_tasks.py            # rewrite the shipped files
    python scripts/build_tasks.py --table    # print the counts table that docs/datasets.md shows

The output is deterministic (seeded per task, language, split and label), and tests/test_datasets.py
checks that the shipped files are exactly what build() writes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE.parent / "src" / "incision" / "data" / "tasks"
sys.path.insert(0, str(HERE))

from tasks import harmful_en, harmful_ja, sentiment_en, sentiment_ja  # noqa: E402

TABLES: dict[str, dict[str, ModuleType]] = {
    "harmful": {"en": harmful_en, "ja": harmful_ja},
    "sentiment": {"en": sentiment_en, "ja": sentiment_ja},
}
SPLITS = ("train", "heldout")
PER_LABEL = {"train": 300, "heldout": 100}  # examples per label, per language and split
ATTEMPTS = 80  # renders of one template before giving up on finding a text not yet used
HELDOUT_NEW = 0.5  # chance that a held-out slot draws from its held-out-only fillers, where it has them

SLOT = re.compile(r"\{([a-z_]+)(?:#(\d))?(?::([a-z]+))?\}")
REGISTER = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")


class _Example:
    """One text being rendered: its random stream and the fillers drawn so far, shared by nested slots."""

    def __init__(self, table: ModuleType, rng: random.Random, label: str, split: str, domain: str | None):
        self.table, self.rng, self.label, self.split, self.domain = table, rng, label, split, domain
        self.values: dict[str, str] = {}
        self.used: dict[str, set[str]] = defaultdict(set)

    def fill(self, text: str) -> str:
        return SLOT.sub(self._slot, text)

    def _pools(self, name: str) -> tuple[list[str], list[str]]:
        keys = [f"{name}.{self.label}", name]
        if self.domain:
            keys = [f"{name}.{self.domain}.{self.label}", f"{name}.{self.domain}", *keys]
        slots = self.table.SLOTS
        base = [v for k in keys for v in slots.get(k, ())]
        extra = [v for k in keys for v in slots.get(k + ".heldout", ())] if self.split == "heldout" else []
        if not base:
            raise KeyError(
                f"{self.table.__name__}: no fillers for slot {name!r} ({self.domain}, {self.label})"
            )
        return base, extra

    def _slot(self, match: re.Match) -> str:
        name, n, fn = match.groups()
        key = f"{name}#{n}" if n else name
        if key not in self.values:
            base, extra = self._pools(name)
            pool = extra if extra and self.rng.random() < HELDOUT_NEW else base
            fresh = [v for v in pool if v not in self.used[name]] or [
                v for v in base + extra if v not in self.used[name]
            ]
            raw = self.rng.choice(fresh)
            self.used[name].add(raw)
            self.values[key] = self.fill(raw)
        value = self.values[key]
        return self.table.TRANSFORMS[fn](value) if fn else value


def render(table: ModuleType, template, rng: random.Random, label: str, split: str) -> str:
    domain = rng.choice(template.domains or table.DOMAINS)
    text = _Example(table, rng, label, split, domain).fill(template.text)
    if template.register:
        text = REGISTER.sub(lambda m: m.group(1 if template.register == "casual" else 2), text)
    text = re.sub(r"\s+", " ", text).strip()
    if any(c in text for c in "{}[]|"):
        raise ValueError(f"{table.__name__} {template.id}: unresolved markup in {text!r}")
    return text


def _key(text: str) -> str:
    """Texts that differ only in case, width or punctuation count as duplicates."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _check(table: ModuleType) -> None:
    ids = [t.id for t in table.TRAIN + table.HELDOUT]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{table.__name__}: repeated template ids")
    if {t.text for t in table.TRAIN} & {t.text for t in table.HELDOUT}:
        raise ValueError(f"{table.__name__}: a held-out template is also a training template")


def generate(task: str) -> list[dict]:
    """All records of one task, sorted, with ids."""
    seen: set[str] = set()
    records = []
    for lang, table in TABLES[task].items():
        _check(table)
        for split in SPLITS:
            templates = table.TRAIN if split == "train" else table.HELDOUT
            for label in table.LABELS:
                rng = random.Random(f"{task}/{lang}/{split}/{label}")
                order = [t for t in templates if t.labels is None or label in t.labels]
                rng.shuffle(order)
                made = turn = misses = 0
                while made < PER_LABEL[split]:
                    template = order[turn % len(order)]
                    turn += 1
                    for _ in range(ATTEMPTS):
                        text = render(table, template, rng, label, split)
                        if _key(text) not in seen:
                            break
                    else:  # this template is used up; the others take its turn
                        misses += 1
                        if misses > len(order):
                            raise RuntimeError(f"{task}/{lang}/{split}/{label}: not enough distinct texts")
                        continue
                    misses = 0
                    seen.add(_key(text))
                    made += 1
                    records.append(
                        {"task": task, "lang": lang, "text": text, "label": label, "split": split,
                         "template": f"{task}-{lang}-{template.id}"}
                    )  # fmt: skip
    records.sort(key=lambda r: (r["lang"], SPLITS.index(r["split"]), r["template"], r["label"], r["text"]))
    numbers: Counter = Counter()
    for i, record in enumerate(records):
        numbers[record["lang"]] += 1
        records[i] = {"id": f"{task}-{record['lang']}-{numbers[record['lang']]:04d}", **record}
    return records


def build(out_dir: Path | str = OUT_DIR) -> list[Path]:
    """Write every task's JSONL file into out_dir; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for task in TABLES:
        path = out_dir / f"{task}.jsonl"
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in generate(task))
        path.write_bytes(lines.encode("utf-8"))  # bytes: no newline translation on any platform
        paths.append(path)
    return paths


def counts_table(records: list[dict]) -> str:
    """The Markdown table of counts that docs/datasets.md shows, computed from the records."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[r["task"], r["lang"], r["split"]].append(r)
    rows = [
        "| task | lang | split | examples | per label | templates |",
        "|---|---|---|---:|---|---:|",
    ]
    for (task, lang, split), group in groups.items():
        labels = Counter(r["label"] for r in group)
        per_label = ", ".join(f"{label} {labels[label]}" for label in TABLES[task][lang].LABELS)
        templates = len({r["template"] for r in group})
        rows.append(f"| {task} | {lang} | {split} | {len(group)} | {per_label} | {templates} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder to write into")
    parser.add_argument("--table", action="store_true", help="print the counts table instead of writing")
    args = parser.parse_args(argv)
    if args.table:
        print(counts_table([r for task in TABLES for r in generate(task)]), end="")
        return
    for path in build(args.out):
        print(path)


if __name__ == "__main__":
    main()
