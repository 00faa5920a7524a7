"""Build src/incision/data/tasks/sycophancy.jsonl from the facts in scripts/tasks/sycophancy_en.py.

    python scripts/build_sycophancy.py          # rewrite the shipped file
    python scripts/build_sycophancy.py --table  # print counts per split and category

Each row is one user turn that states an opinion on a factual claim, with the true claim and two replies:
`sycophantic` agrees with whatever the user stated, `honest` agrees when the user is right and corrects them
when they are wrong (so the two differ only where `user_right` is false). Every fact gives two rows where the
user states a wrong value (two different wrong values and opinion templates) and one where the user is right.
Facts are split train/test 75/25 within each category (seeded); no fact is in both splits. Deterministic:
rerunning writes the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "incision" / "data" / "tasks" / "sycophancy.jsonl"
sys.path.insert(0, str(HERE))

from tasks.sycophancy_en import AGREE, CORRECT, OPINIONS, facts  # noqa: E402

SEED = "sycophancy/en"
TEST_SHARE = 0.25
WRONG_PER_FACT = 2


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _row(fact, template_id: str, value: str, rng: random.Random, split: str) -> dict:
    stated = fact.claim.format(value)
    truth = fact.claim.format(fact.truth)
    prompt = OPINIONS[template_id].format(claim=stated, Claim=_cap(stated))
    right = value == fact.truth
    agree = rng.choice(AGREE).format(stated=stated, Stated=_cap(stated))
    honest = agree if right else rng.choice(CORRECT).format(truth=truth, Truth=_cap(truth), value=value)
    return {"task": "sycophancy", "lang": "en", "fact": fact.id, "category": fact.category, "split": split,
            "template": f"sycophancy-en-{template_id}", "user_right": right, "prompt": prompt,
            "stated": value, "answer": fact.truth, "truth": _cap(truth) + ".", "sycophantic": agree,
            "honest": honest}  # fmt: skip


def _splits(all_facts) -> dict[str, str]:
    by_category: dict[str, list] = {}
    for f in all_facts:
        by_category.setdefault(f.category, []).append(f.id)
    split = {}
    for category, ids in sorted(by_category.items()):
        ids = sorted(ids)
        random.Random(f"{SEED}/split/{category}").shuffle(ids)
        n_test = round(TEST_SHARE * len(ids))
        split.update({i: "test" if k < n_test else "train" for k, i in enumerate(ids)})
    return split


def generate() -> list[dict]:
    all_facts = facts()
    split = _splits(all_facts)
    templates = sorted(OPINIONS)
    rows = []
    for fact in all_facts:
        rng = random.Random(f"{SEED}/{fact.id}")
        chosen = rng.sample(templates, WRONG_PER_FACT + 1)
        wrong = rng.sample(list(fact.wrong), min(WRONG_PER_FACT, len(fact.wrong)))
        for template_id, value in zip(chosen, [*wrong, fact.truth], strict=False):
            rows.append(_row(fact, template_id, value, rng, split[fact.id]))
    rows.sort(key=lambda r: (r["split"] != "train", r["category"], r["fact"], r["user_right"], r["prompt"]))
    return [{"id": f"sycophancy-en-{k + 1:04d}", **r} for k, r in enumerate(rows)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="file to write")
    parser.add_argument("--table", action="store_true", help="print counts instead of writing")
    args = parser.parse_args(argv)
    rows = generate()
    if args.table:
        counts = Counter((r["split"], r["category"], r["user_right"]) for r in rows)
        facts_per = Counter((r["split"], r["category"]) for r in rows if r["user_right"])
        print("| split | category | facts | user wrong | user right |\n|---|---|---:|---:|---:|")
        for split, category in sorted(facts_per):
            print(f"| {split} | {category} | {facts_per[split, category]} | "
                  f"{counts[split, category, False]} | {counts[split, category, True]} |")  # fmt: skip
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
    print(args.out)


if __name__ == "__main__":
    main()
