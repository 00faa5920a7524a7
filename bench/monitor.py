"""What a Monitor's probes cost, against a plain forward pass and against a guardrail LLM judge, in one process.

    python bench/monitor.py [--repeats 15] [--shapes 1x128,8x256] [--judge smollm2-135m-instruct] [--json PATH]

For each shape (batch x tokens) the same token ids, cut from the demo sample, go through:

    (a) the embedded Gemma's plain forward pass, keeping the last position's logits (a serving prefill)
    (b) the same pass with a Monitor attached: a token-level probe with the PII detector's 9 classes at
        resid.6 and a mean-pooled binary probe at resid.9 -> overhead against (a)
    (c) a guardrail judge: the texts, decoded, wrapped in a classification prompt in the judge's chat
        template, one prefill of the judge model (the least a judge can cost: it must read the text) ->
        cost as a ratio of (a)

The probes hold random weights: what they cost does not depend on their values. Runs are interleaved
after a warm-up, the order alternating per repeat; overhead is the median over repeats of
time(b) / time(a) - 1, because these machines are noisy and only same-process ratios mean anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import sys

import torch
from capture import build_texts, timed  # the capture bench's texts and timer

import incision
from incision.monitor import Monitor
from incision.probes.linear import LinearProbe

MODEL = "gemma-3-270m"
JUDGE_PROMPT = (
    "Classify the following text. Answer 'unsafe' if it asks for help with something harmful or contains "
    "personal data, otherwise 'safe'.\n\nText: {text}\n\nAnswer:"
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--shapes", default="1x128,8x256", help="batch x tokens, comma-separated")
    p.add_argument("--judge", default="smollm2-135m-instruct", help="judge model; 'none' to skip")
    p.add_argument("--json", help="also write the results here")
    return p.parse_args(argv)


def random_probe(subject, site: str, labels: list[str], pooling: str | None, seed: int) -> LinearProbe:
    g = torch.Generator().manual_seed(seed)
    rows = 1 if len(labels) == 2 else len(labels)
    return LinearProbe(
        mean_D=torch.randn(subject.d_model, generator=g),
        std_D=torch.rand(subject.d_model, generator=g) + 0.5,
        weight_CD=torch.randn(rows, subject.d_model, generator=g) * 0.01,
        bias_C=torch.zeros(rows),
        label_names=labels,
        pooling=pooling,
        meta={"site": site, "model": subject.name},
    )


def token_ids(subject, batch: int, tokens: int) -> torch.Tensor:
    texts, _ = build_texts(subject, batch, tokens + 16)
    return torch.tensor([subject.encode(t).ids[:tokens] for t in texts])


def judge_inputs(judge, subject, ids_BT: torch.Tensor) -> dict:
    texts = subject.tokenizer.batch_decode(ids_BT, skip_special_tokens=True)
    prompts = [
        judge.tokenizer.apply_chat_template(
            [{"role": "user", "content": JUDGE_PROMPT.format(text=t)}],
            tokenize=False,
            add_generation_prompt=True,
        )
        for t in texts
    ]
    tok = judge.tokenizer
    tok.padding_side = "left"
    return dict(tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False))


def measure(subject, monitor, judge, batch: int, tokens: int, repeats: int) -> dict:
    ids = token_ids(subject, batch, tokens)
    mask = torch.ones_like(ids)
    plain = lambda: subject.model(input_ids=ids, attention_mask=mask, logits_to_keep=1)  # noqa: E731
    monitored = lambda: monitor.forward(ids, mask, logits_to_keep=1)  # noqa: E731
    judged = None
    if judge is not None:
        inputs = judge_inputs(judge, subject, ids)
        judged = lambda: judge.model(**inputs, logits_to_keep=1)  # noqa: E731
    runs = {"plain": plain, "monitor": monitored} | ({"judge": judged} if judged else {})
    with torch.inference_mode():
        for fn in runs.values():  # warm-up
            fn()
        samples: dict[str, list] = {k: [] for k in runs}
        for r in range(repeats):
            order = list(runs) if r % 2 == 0 else list(reversed(runs))
            for name in order:
                samples[name].append(timed(runs[name])[0])
    seconds = {k: [s.seconds for s in v] for k, v in samples.items()}
    overhead = [m / p - 1 for m, p in zip(seconds["monitor"], seconds["plain"], strict=True)]
    result = {
        "shape": f"{batch}x{tokens}",
        "plain_s_median": statistics.median(seconds["plain"]),
        "monitor_s_median": statistics.median(seconds["monitor"]),
        "overhead_median": statistics.median(overhead),
        "overhead_quartiles": statistics.quantiles(overhead, n=4),
        "other_cores_max": max((s.other_cores or 0.0) for v in samples.values() for s in v),
    }
    if judged:
        ratio = [j / p for j, p in zip(seconds["judge"], seconds["plain"], strict=True)]
        result |= {
            "judge_prompt_tokens": int(inputs["input_ids"].shape[1]),
            "judge_s_median": statistics.median(seconds["judge"]),
            "judge_over_plain_median": statistics.median(ratio),
        }
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.manual_seed(0)
    subject = incision.load(MODEL)
    pii_labels = ["none", "PERSON", "EMAIL", "PHONE", "ADDRESS", "DATE", "ID", "CARD", "URL"]
    monitor = Monitor(
        subject,
        {
            "pii": random_probe(subject, "resid.6", pii_labels, None, 0),
            "harmful": random_probe(subject, "resid.9", ["benign", "harmful"], "mean", 1),
        },
    )
    judge = None if args.judge == "none" else incision.load(args.judge)
    results = []
    for shape in args.shapes.split(","):
        batch, tokens = (int(x) for x in shape.lower().split("x"))
        result = measure(subject, monitor, judge, batch, tokens, args.repeats)
        results.append(result)
        line = (
            f"{result['shape']}: plain {result['plain_s_median'] * 1e3:.1f} ms, with 2 probes "
            f"{result['monitor_s_median'] * 1e3:.1f} ms, overhead {result['overhead_median']:+.2%} "
            f"(quartiles {result['overhead_quartiles'][0]:+.2%} .. {result['overhead_quartiles'][2]:+.2%})"
        )
        if "judge_over_plain_median" in result:
            line += (
                f"; judge ({args.judge}, {result['judge_prompt_tokens']} prompt tokens) "
                f"{result['judge_over_plain_median']:.2f}x the plain pass"
            )
        print(line, flush=True)
    report = {
        "command": "python bench/monitor.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "model": MODEL,
        "judge": args.judge,
        "results": results,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
