"""``python -m ml``: train (held-out metrics, then refit), evaluate, and exit code 2 on bad input."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ml.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(banking_slice, tmp_path_factory):
    train_x, train_y, test_x, test_y = banking_slice
    root = tmp_path_factory.mktemp("cli")
    pd.DataFrame({"text": train_x, "category": train_y}).to_csv(root / "train.csv", index=False)
    pd.DataFrame({"text": test_x, "category": test_y}).to_json(root / "test.jsonl", orient="records", lines=True)
    pd.DataFrame({"text": test_x[:20], "category": test_y[:20]}).to_excel(root / "test.xlsx", index=False)
    return root


@pytest.fixture(scope="module")
def model_dir(data):
    out = data / "model"
    code = main(["train", "--task", "intent", "--backend", "linear", "--data", str(data / "train.csv"),
                 "--text-col", "text", "--label-col", "category", "--out", str(out),
                 "--val-fraction", "0.25", "--seed", "0"])
    assert code == 0
    return out


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ml", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_train_writes_metrics_and_confusion_matrix(model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["metrics"]["n"] == 50
    assert manifest["metrics"]["accuracy"] > 0.6
    assert manifest["metrics"]["split"] == {"val_fraction": 0.25, "seed": 0, "n_train": 150, "n_validation": 50,
                                            "refit_on_all_rows": True}
    assert manifest["training_data"]["n"] == 200  # refit on every row after the held-out measurement
    assert (model_dir / "reports" / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    matrix = json.loads((model_dir / "reports" / "confusion_matrix.json").read_text())
    assert sum(map(sum, matrix["matrix"])) == 50


def test_no_refit_keeps_the_model_fitted_without_the_held_out_rows(data, tmp_path):
    out = tmp_path / "split-model"
    code = main(["train", "--task", "intent", "--backend", "linear", "--data", str(data / "train.csv"),
                 "--label-col", "category", "--out", str(out), "--val-fraction", "0.25", "--no-refit"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training_data"]["n"] == 150
    assert manifest["metrics"]["split"]["refit_on_all_rows"] is False


def test_evaluate_prints_one_json_object(model_dir, data):
    proc = run_cli("evaluate", "--model", model_dir, "--data", data / "test.jsonl", "--text-col", "text",
                   "--label-col", "category", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["n"] == 100
    assert 0.6 < report["accuracy"] <= 1.0 and 0 < report["macro_f1"] <= 1.0
    assert len(report["confusion_matrix"]) == 5 and report["ece"] is not None


def test_evaluate_reads_xlsx(model_dir, data, capsys):
    assert main(["evaluate", "--model", str(model_dir), "--data", str(data / "test.xlsx"),
                 "--label-col", "category", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 20


def test_bad_input_exits_2(model_dir, data, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("text,category\n")
    pd.DataFrame({"text": ["where is my card"], "category": ["not_an_intent"]}).to_csv(
        tmp_path / "unknown.csv", index=False)
    tampered = shutil.copytree(model_dir, tmp_path / "tampered")
    with open(tampered / "pipeline.skops", "ab") as handle:
        handle.write(b"x")
    cases = [
        ("train", "--task", "intent", "--backend", "linear", "--data", data / "train.csv",
         "--label-col", "nope", "--out", tmp_path / "m"),
        ("train", "--task", "intent", "--backend", "linear", "--data", tmp_path / "empty.csv",
         "--label-col", "category", "--out", tmp_path / "m"),
        ("train", "--task", "intent", "--backend", "linear", "--data", tmp_path / "header.csv",
         "--label-col", "category", "--out", tmp_path / "m"),
        ("evaluate", "--model", model_dir, "--data", tmp_path / "unknown.csv", "--label-col", "category"),
        ("evaluate", "--model", tmp_path / "missing", "--data", data / "test.jsonl", "--label-col", "category"),
        ("evaluate", "--model", tampered, "--data", data / "test.jsonl", "--label-col", "category"),
        ("evaluate", "--model", model_dir, "--data", tmp_path / "nothing.csv", "--label-col", "category"),
        ("train", "--task", "intent", "--backend", "nonsense", "--data", data / "train.csv", "--out", tmp_path / "m"),
    ]
    messages = []
    for args in cases:
        with pytest.raises(SystemExit) if "nonsense" in args else _nullcontext():
            code = main([str(a) for a in args])
            assert code == 2, args
    assert not (tmp_path / "m").exists()
    proc = run_cli("evaluate", "--model", tampered, "--data", data / "test.jsonl", "--label-col", "category")
    assert proc.returncode == 2 and "sha256 mismatch" in proc.stderr and proc.stdout == ""
    proc = run_cli("evaluate", "--model", model_dir, "--data", tmp_path / "unknown.csv", "--label-col", "category")
    assert proc.returncode == 2 and "not_an_intent" in proc.stderr
    del messages


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_quality_train_and_evaluate(tmp_path, capsys):
    from tests.ml.test_quality import make_conversations

    texts, features, y = make_conversations(200)
    frame = pd.DataFrame(features)
    frame["text"], frame["score"] = texts, y
    frame.to_csv(tmp_path / "q.csv", index=False)
    assert main(["train", "--task", "quality", "--backend", "quality", "--data", str(tmp_path / "q.csv"),
                 "--label-col", "score", "--out", str(tmp_path / "q"), "--param", "use_text=true"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(tmp_path / "q"), "--data", str(tmp_path / "q.csv"),
                 "--label-col", "score", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"mae", "spearman", "n"} <= set(report) and report["n"] == 200
