"""`incision steer ...` end to end on a tiny saved model: files written, edits that load, clear errors."""

from __future__ import annotations

import json

import pytest
import torch
import transformers as T

from incision import capture, load
from incision.cli import main
from incision.steer.ablation import ablate
from incision.steer.direction import Direction
from incision.steer.keep_means import keep_means
from incision.steer.leace import LeaceEraser

POSITIVE = ["what a lovely sunny day", "I love this warm bright morning"]
NEGATIVE = ["what a gloomy rainy day", "I hate this cold dark morning"]


@pytest.fixture(scope="module")
def model_dir(saved_model_dir):
    return saved_model_dir


@pytest.fixture(scope="module")
def direction_dir(model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("steer-direction")
    for name, texts in (("pos.txt", POSITIVE), ("neg.txt", NEGATIVE)):
        (root / name).write_text("\n".join(texts) + "\n", encoding="utf-8")
    argv = ["steer", "direction", "--model", str(model_dir), "--positive", str(root / "pos.txt"),
            "--negative", str(root / "neg.txt"), "--sites", "resid.1", "--out", str(root / "d")]  # fmt: skip
    assert main(argv) == 0
    return root / "d"


def test_direction_then_generate_writes_both_continuations(model_dir, direction_dir, tmp_path, capsys):
    direction = Direction.load(direction_dir)
    assert direction.sites == ["resid.1"] and direction.meta["method"] == "diff_means"
    out = tmp_path / "gen.jsonl"
    argv = ["steer", "generate", "--model", str(model_dir), "--direction", str(direction_dir), "--alpha", "8",
            "--prompt", "the quick brown", "--max-new-tokens", "6", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    row = json.loads(out.read_text().splitlines()[0])
    assert set(row) == {"prompt", "plain", "edited"}
    assert "steered (alpha 8 at resid.1, all)" in capsys.readouterr().out


def test_orthogonalize_saves_a_model_equal_to_the_hooked_ablation(model_dir, direction_dir, tmp_path):
    out = tmp_path / "edited"
    argv = ["steer", "orthogonalize", "--model", str(model_dir), "--direction", str(direction_dir),
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    subject = load(model_dir)
    ids = torch.tensor([[1, 40, 50, 60, 70]])
    with ablate(subject, Direction.load(direction_dir).vector()), torch.no_grad():
        hooked = subject.model(input_ids=ids).logits
    edited = T.AutoModelForCausalLM.from_pretrained(out).eval()
    with torch.no_grad():
        assert (edited(input_ids=ids).logits - hooked).abs().max() <= 1e-4
    assert json.loads((out / "incision_edit.json").read_text())["exact_equivalent_of_hooked_ablation"]


def test_orthogonalize_keeping_means_uses_the_given_texts(model_dir, direction_dir, tmp_path):
    texts = tmp_path / "neutral.txt"
    texts.write_text("the weather report for tuesday\nan ordinary sentence about trains\n", encoding="utf-8")
    out = tmp_path / "edited"
    argv = ["steer", "orthogonalize", "--model", str(model_dir), "--direction", str(direction_dir),
            "--keep-means", str(texts), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    record = json.loads((out / "incision_edit.json").read_text())
    assert record["calibration_texts"] == 2 and 0 < record["cosine_to_original"] < 1
    subject = load(model_dir)
    kept, _ = keep_means(
        subject,
        Direction.load(direction_dir).vector(),
        ["the weather report for tuesday", "an ordinary sentence about trains"],
    )
    ids = torch.tensor([[1, 40, 50, 60, 70]])
    with ablate(subject, kept), torch.no_grad():
        hooked = subject.model(input_ids=ids).logits
    edited = T.AutoModelForCausalLM.from_pretrained(out).eval()
    with torch.no_grad():
        assert (edited(input_ids=ids).logits - hooked).abs().max() <= 1e-4


def test_erase_fits_an_eraser_from_a_store(model_dir, tmp_path):
    records = [
        {"text": t, "label": lab}
        for t, lab in [*((p, "pos") for p in POSITIVE), *((n, "neg") for n in NEGATIVE)]
    ]
    records = records * 5
    capture(load(model_dir), records, "resid.1", tmp_path / "store", dtype="float32", progress=False)
    argv = [
        "steer",
        "erase",
        "--store",
        str(tmp_path / "store"),
        "--site",
        "resid.1",
        "--out",
        str(tmp_path / "e"),
    ]
    assert main(argv) == 0
    assert LeaceEraser.load(tmp_path / "e").meta["label_names"] == ["neg", "pos"]


def test_bad_steering_input_is_a_clear_error(model_dir, direction_dir, tmp_path, capsys):
    assert main(["steer", "generate", "--model", str(model_dir), "--direction", str(direction_dir)]) == 2
    assert "--prompt" in capsys.readouterr().err
    assert main(["steer", "ablate", "--model", str(model_dir), "--direction", str(tmp_path / "none")]) == 2
    assert "not a readable direction folder" in capsys.readouterr().err
    Direction({"resid.1": torch.ones(16)}).save(tmp_path / "narrow")
    assert main(["steer", "ablate", "--model", str(model_dir), "--direction", str(tmp_path / "narrow")]) == 2
    assert "width 16" in capsys.readouterr().err
    Direction({"resid.7": torch.ones(32)}).save(tmp_path / "far")
    assert main(["steer", "ablate", "--model", str(model_dir), "--direction", str(tmp_path / "far")]) == 2
    assert "resid.7" in capsys.readouterr().err
