"""The `incision` command line, run in-process."""

from __future__ import annotations

import json

import pytest
import torch

from incision import ActivationStore
from incision.cli import main

from .conftest import tiny_subject


@pytest.fixture
def model_dir(tmp_path):
    subject = tiny_subject("llama")
    subject.model.save_pretrained(tmp_path / "model")
    subject.tokenizer.save_pretrained(tmp_path / "model")
    return tmp_path / "model"


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.jsonl"
    rows = [{"body": "the lazy dog", "label": 0}, {"body": "山田太郎の電話番号", "label": 1}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_capture_command(model_dir, data_file, tmp_path):
    out = tmp_path / "acts"
    code = main(
        [
            "capture",
            "--model",
            str(model_dir),
            "--sites",
            "resid.0,resid.-1",
            "--input",
            str(data_file),
            "--text-field",
            "body",
            "--out",
            str(out),
            "--dtype",
            "float32",
            "--no-progress",
        ]
    )
    assert code == 0
    store = ActivationStore.open(out)
    assert store.sites == ["resid.0", "resid.2"] and store.dtype == torch.float32
    assert store.documents["label"].to_pylist() == [0, 1]
    assert set(store.tokens["label"].to_pylist()) == {0, 1}


def test_capture_command_reports_bad_site(model_dir, data_file, tmp_path, capsys):
    code = main(
        [
            "capture",
            "--model",
            str(model_dir),
            "--sites",
            "resid.9",
            "--input",
            str(data_file),
            "--text-field",
            "body",
            "--out",
            str(tmp_path / "acts"),
            "--no-progress",
        ]
    )
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # above it: transformers' loading bar
    assert last.startswith("error: site 'resid.9' is out of range")


def test_models_command(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("gemma-3-270m", "smollm2-135m-instruct", "minilm-l6"):
        assert name in out
    assert "[default]" in out


def test_probe_train_eval_score_commands(model_dir, tmp_path, capsys):
    from .probes.test_train import planted_records

    data = tmp_path / "planted.jsonl"
    records = planted_records(60)
    data.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    model = ["--model", str(model_dir)]
    assert (
        main(["capture", *model, "--sites", "resid.*", "--input", str(data), "--out", str(tmp_path / "s")])
        == 0
    )
    probe = tmp_path / "probe"
    train = ["probe", "train", "--store", str(tmp_path / "s"), "--sites", "resid.*", "--out", str(probe)]
    assert main([*train, "--split-field", "split", "--n-bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "heldout" in out and "<- best" in out and (probe / "sweep.png").is_file()
    evaluate = [
        "probe",
        "eval",
        "--probe",
        str(probe),
        "--store",
        str(tmp_path / "s"),
        "--where",
        "split=heldout",
    ]
    assert main([*evaluate, "--n-bootstrap", "20", "--json", str(tmp_path / "m.json")]) == 0
    assert "n=20" in capsys.readouterr().out and json.loads((tmp_path / "m.json").read_text())["n"] == 20
    scores = tmp_path / "scores.jsonl"
    assert (
        main(["probe", "score", "--probe", str(probe), "--input", str(data), *model, "--out", str(scores)])
        == 0
    )
    lines = [json.loads(line) for line in scores.read_text().splitlines()]
    assert len(lines) == 60 and {"index", "label", "score", "proba"} <= set(lines[0])
    assert all(
        records[0]["text"] not in line for line in scores.read_text().splitlines()
    )  # texts never echoed
    assert (
        main(["probe", "eval", "--probe", str(probe), "--store", str(tmp_path / "s"), "--where", "split"])
        == 2
    )
    assert "--where takes FIELD=VALUE, got 'split'" in capsys.readouterr().err


def test_pii_synth_train_eval_scrub_commands(model_dir, tmp_path, capsys, monkeypatch):
    import io

    data, gold = tmp_path / "train.jsonl", tmp_path / "gold.jsonl"
    assert main(["pii", "synth", "--lang", "en,ja", "--n", "120", "--seed", "0", "--out", str(data)]) == 0
    assert main(["pii", "synth", "--n", "20", "--seed", "1", "--split", "shifted", "--out", str(gold)]) == 0
    assert len(data.read_text(encoding="utf-8").splitlines()) == 120
    detector = tmp_path / "det"
    train = ["pii", "train", "--data", str(data), "--model", str(model_dir), "--out", str(detector)]
    assert main([*train, "--sweep-docs", "40"]) == 0
    assert "threshold" in capsys.readouterr().out and (detector / "detector.json").is_file()
    assert (tmp_path / "det.work").is_dir() and not (detector / "work").exists()  # training texts stay out
    html = tmp_path / "view.html"
    evaluate = ["pii", "eval", "--detector", str(detector), "--gold", str(gold), "--baselines", "regex"]
    scores = tmp_path / "new" / "s.json"  # its folder is created
    assert main([*evaluate, "--html", str(html), "--json", str(scores)]) == 0
    out = capsys.readouterr().out
    assert "incision" in out and "regex" in out and "char recall" in out and html.is_file()
    assert set(json.loads(scores.read_text())["systems"]) == {"incision", "regex"}

    lines = ["Call me at 090-1234-5678, Anna", "", "注文番号は A-1234 です"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["pii", "scrub", "--detector", str(detector), "--style", "mask"]) == 0
    scrubbed = capsys.readouterr().out.splitlines()
    assert len(scrubbed) == 3 and [len(s) for s in scrubbed] == [len(s) for s in lines]  # mask keeps lengths
    records = [{"id": 7, "body": "Anna's number is 555-0142"}]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(records[0]) + "\n"))
    assert main(["pii", "scrub", "--detector", str(detector), "--jsonl", "--text-field", "body"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["id"] == 7 and "pii_spans" in out and len(out["body"]) > 0
    monkeypatch.setattr("sys.stdin", io.StringIO('{"body": "x"}\nnot json\n'))
    assert main(["pii", "scrub", "--detector", str(detector), "--jsonl", "--text-field", "body"]) == 2
    captured = capsys.readouterr()
    assert "stdin line 2 is not valid JSON" in captured.err
    assert len(captured.out.splitlines()) == 1 and "pii_spans" in json.loads(captured.out)  # good line kept
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "ok", "spans": []}\n{"text": "x", "spans": [{"start": 0, "end": 9, "label": "PHONE"}]}\n'
    )
    assert main(["pii", "eval", "--gold", str(bad), "--baselines", "regex"]) == 2
    assert "bad.jsonl line 2" in capsys.readouterr().err


@pytest.fixture(scope="module")
def pii_detector(tmp_path_factory):
    """A tiny detector for the scrub command (its spans are arbitrary: the mechanics are tested)."""
    from incision.pii import synthesize
    from incision.pii.records import write_records

    folder = tmp_path_factory.mktemp("pii")
    subject = tiny_subject("llama")
    subject.model.save_pretrained(folder / "model")
    subject.tokenizer.save_pretrained(folder / "model")
    write_records(synthesize(("en", "ja"), 120, seed=0), folder / "train.jsonl")
    train = ["pii", "train", "--data", str(folder / "train.jsonl"), "--model", str(folder / "model")]
    assert main([*train, "--out", str(folder / "det"), "--sweep-docs", "40"]) == 0
    return str(folder / "det")


def scrub_cli(monkeypatch, capsys, stdin, *options) -> tuple[int, str, str]:
    import io

    if isinstance(stdin, bytes):  # a real stream, which the command makes tolerant of bad bytes
        stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    else:
        stdin = io.StringIO(stdin)
    monkeypatch.setattr("sys.stdin", stdin)
    code = main(["pii", "scrub", *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_pii_scrub_keeps_line_endings_and_survives_bad_characters(pii_detector, monkeypatch, capsys):
    det = ["--detector", pii_detector, "--style", "mask"]
    code, out, _ = scrub_cli(monkeypatch, capsys, "Anna 090-1234-5678\n\nno newline at the end", *det)
    assert code == 0 and out.count("\n") == 2 and not out.endswith("\n")
    assert [len(s) for s in out.split("\n")] == [18, 0, 21]  # mask keeps lengths
    code, out, _ = scrub_cli(monkeypatch, capsys, "lone \ud800 surrogate\n", *det)
    assert code == 0 and len(out) == 17 and "\ud800" not in out  # replaced one for one
    code, out, _ = scrub_cli(monkeypatch, capsys, b"bad \xff byte\n", *det)
    assert code == 0 and len(out) == len("bad \ufffd byte\n")
    lines = (
        '{"text": "call 090-1234-5678"}\n{"text": "bad \\ud800 here", "note": "\\udc00"}\n{"text": "ok"}\n'
    )
    code, out, _ = scrub_cli(monkeypatch, capsys, lines, "--detector", pii_detector, "--jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(records) == 3 and records[1]["note"] == "\ufffd"
    assert len(records[1]["text"]) >= 1 and all(
        0 <= s["start"] < s["end"] <= len("bad \ud800 here") for s in records[1]["pii_spans"]
    )


def test_pii_scrub_refuses_to_overwrite_and_never_writes_twice(pii_detector, monkeypatch, capsys):
    from incision.pii.detector import Detector

    det = ["--detector", pii_detector, "--jsonl"]
    lines = '{"text": "one"}\n{"text": "two", "pii_spans": []}\n{"text": "three"}\n'
    code, out, err = scrub_cli(monkeypatch, capsys, lines, *det)
    assert code == 2 and "stdin line 2 already has a field 'pii_spans'" in err
    assert len(out.splitlines()) == 1  # what was read before the bad line, once
    code, out, err = scrub_cli(monkeypatch, capsys, "text\n", "--detector", pii_detector, "--style", "hash")
    assert code == 2 and "salt" in err and out == ""

    calls = []
    real = Detector.find_batch

    def failing(self, texts, *a, **k):
        calls.append(len(texts))
        if len(calls) == 2:
            raise RuntimeError("the detector failed")
        return real(self, texts, *a, **k)

    monkeypatch.setattr(Detector, "find_batch", failing)
    monkeypatch.setattr("incision.cli.pii.SCRUB_BATCH", 1)
    with pytest.raises(RuntimeError, match="the detector failed"):
        scrub_cli(monkeypatch, capsys, "one\ntwo\nthree\n", "--detector", pii_detector)
    assert calls == [1, 1] and capsys.readouterr().out.count("\n") == 1  # no re-run, no second write


def test_demo_command_runs_the_flagship_pipeline(model_dir, tmp_path, capsys, monkeypatch):
    """The flagship's mechanics on a tiny model (its quality is judged on Gemma in tests/pii)."""
    monkeypatch.setattr("incision.pii.presidio.available", lambda langs=None: False)  # seconds, not minutes
    out = tmp_path / "demo"
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": "Call Anna at 555-0142", "lang": "en", "spans": []}) + "\n")
    code = main(
        [
            "demo",
            "--model",
            str(model_dir),
            "--out",
            str(out),
            "--n",
            "120",
            "--n-test",
            "20",
            "--gold",
            str(gold),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "style-shifted synthetic: 20 records" in printed and "gold file gold.jsonl: 1 records" in printed
    assert (out / "detector" / "detector.json").is_file() and (out / "report.html").is_file()
    scores = json.loads((out / "scores.json").read_text())
    assert set(scores["style-shifted synthetic"]["systems"]) == {"incision", "regex"}
    # raw vs SAE probes on the same task: files, and a section of the main report (not the gold one)
    compared = json.loads((out / "sae-compare" / "comparison.json").read_text())
    assert compared["methods"][0] == "raw" and "shifted" in compared["splits"]
    assert "Raw-activation probes vs SAE probes" in (out / "report.html").read_text()
    assert "Raw-activation probes vs SAE probes" not in (out / "report-gold.html").read_text()
    assert "macro_f1 at" in printed and (out / "sae-compare" / "comparison-macro_f1.png").is_file()


def test_demo_without_a_shifted_record_that_has_pii(model_dir, tmp_path, capsys, monkeypatch):
    """A tiny --n-test may draw no record with spans: the example is skipped, not a StopIteration."""
    import incision.pii.synth as synth

    real = synth.synthesize
    monkeypatch.setattr("incision.pii.presidio.available", lambda langs=None: False)
    monkeypatch.setattr(
        synth,
        "synthesize",
        lambda *a, split="train", **k: real(*a, split=split, pii_free=float(split != "train"), **k),
    )
    out = tmp_path / "demo"
    assert main(["demo", "--model", str(model_dir), "--out", str(out), "--n", "120", "--n-test", "2"]) == 0
    printed = capsys.readouterr().out
    assert "style-shifted synthetic: 2 records" in printed and "example (synthetic)" not in printed
