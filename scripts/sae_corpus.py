"""Text for training an SAE on the embedded Gemma, from what installs with the project: synthetic EN/JA
customer messages (a seed the PII demo does not use), the bundled sequence tasks (train split only, so the
held-out phrasings stay unseen), and the English prose of Python's own reference (`pydoc_data`).

    python scripts/sae_corpus.py --n-synth 60000 --out out/sae-gemma/corpus.jsonl
"""

from __future__ import annotations

import argparse
import pydoc_data.topics
import random
import re

from incision.datasets import TASKS, load_task
from incision.pii.records import write_records
from incision.pii.synth import synthesize


def corpus(n_synth: int, seed: int) -> list[dict]:
    texts = [r["text"] for r in synthesize(("en", "ja"), n_synth, seed=seed)]
    texts += [r["text"] for task in TASKS for r in load_task(task, split="train")]
    for topic in pydoc_data.topics.topics.values():  # paragraphs of prose, code blocks included
        texts += [p.strip() for p in re.split(r"\n\s*\n", topic) if len(p.strip()) > 40]
    random.Random(seed).shuffle(texts)
    return [{"id": k, "text": t} for k, t in enumerate(texts)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-synth", type=int, default=60000, help="synthetic PII records (EN and JA)")
    parser.add_argument("--seed", type=int, default=11, help="synthesis and shuffle seed (the demo uses 0)")
    parser.add_argument("--out", required=True, help="JSONL file to write")
    args = parser.parse_args()
    records = corpus(args.n_synth, args.seed)
    write_records(records, args.out)
    print(f"wrote {len(records)} texts ({sum(len(r['text']) for r in records):,} characters) to {args.out}")


if __name__ == "__main__":
    main()
