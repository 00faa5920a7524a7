"""Write tests/pii/fixtures/synth_v0/: records of `incision pii synth` that later code must reproduce exactly.

    python scripts/make_synth_fixtures.py            # rewrite the fixtures (only when the output may change)

Small files hold 40 records per config: mixed languages with the default PII-free share for a few seeds,
and each (language, split, PII or PII-free) pool alone. manifest.json holds each file's config and sha256,
plus the sha256 of a larger run per split (2,000 records per language) and the versions of the packages
whose data the values come from. tests/pii/test_synth_tables.py regenerates and compares.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import logging
from pathlib import Path

from incision.pii.synth import synthesize, templates

log = logging.getLogger("make_synth_fixtures")
OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "pii" / "fixtures" / "synth_v0"
SMALL_N = 40
LARGE_N = 4000  # per split, "en,ja": 2,000 records per language
VERSIONED = ("faker", "japanese-personal-name-dataset")


def small_configs() -> list[dict]:
    """Mixed-language runs for a few seeds, then every (language, split, PII / PII-free) pool alone."""
    configs = [
        {"langs": "en,ja", "n": SMALL_N, "seed": seed, "split": split, "pii_free": 0.35}
        for seed in (0, 1)
        for split in ("train", "shifted")
    ]
    configs += [
        {"langs": lang, "n": SMALL_N, "seed": 5, "split": split, "pii_free": free}
        for lang in ("en", "ja")
        for split in ("train", "shifted")
        for free in (0.0, 1.0)
    ]
    return configs


def large_configs() -> list[dict]:
    return [
        {"langs": "en,ja", "n": LARGE_N, "seed": 0, "split": split, "pii_free": 0.35}
        for split in ("train", "shifted")
    ]


def file_name(config: dict) -> str:
    langs = config["langs"].replace(",", "_")
    return f"{config['split']}-{langs}-s{config['seed']}-free{config['pii_free']}.jsonl"


def jsonl(records: list[dict]) -> bytes:
    """The bytes compared: one record a line, as `incision pii synth` writes them (UTF-8, no escapes)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def generate(config: dict) -> list[dict]:
    return synthesize(
        config["langs"], config["n"], config["seed"], config["split"], pii_free=config["pii_free"]
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    small = []
    for config in small_configs():
        data = jsonl(generate(config))
        (OUT_DIR / file_name(config)).write_bytes(data)
        small.append({"file": file_name(config), **config, "sha256": sha256(data)})
    large, used = [], set()
    for config in large_configs():
        records = generate(config)
        used |= {r["template"] for r in records}
        large.append({**config, "sha256": sha256(jsonl(records))})
    unused = sorted(t.id for t in templates() if t.id not in used)
    if unused:
        log.warning("%d templates are not used by the large runs: %s", len(unused), unused)
    manifest = {
        "versions": {name: importlib.metadata.version(name) for name in VERSIONED},
        "small": small,
        "large": large,
        "templates_used_by_large": len(used),
    }
    (OUT_DIR / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT_DIR.iterdir())
    log.info("wrote %d files, %.0f KB, to %s", len(small) + 1, total / 1024, OUT_DIR)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
