"""``bench/ml_cv.py``: the cross-validation estimate that model choices are made on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATASETS, WAIMAI, _require

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "ml_cv.py"


@pytest.mark.slow
def test_it_cross_validates_the_training_fold_with_parameter_overrides(tmp_path):
    _require(WAIMAI)
    out = tmp_path / "cv.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--dataset", "waimai_10k", "--backend", "linear",
                          "--folds", "2", "--param", "C=0.25", "--data-dir", str(DATASETS), "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["params"] == {"C": 0.25} and [row["fold"] for row in result["folds"]] == [0, 1]
    assert all(0.8 < row["accuracy"] <= 1.0 for row in result["folds"])  # chance is about 0.5
    assert abs(result["mean_accuracy"] - sum(r["accuracy"] for r in result["folds"]) / 2) < 1e-12
    assert f"mean accuracy {100 * result['mean_accuracy']:.2f} %" in run.stdout


def test_bad_arguments_exit_2_with_a_message(tmp_path):
    for args, message in ((["--folds", "1"], "--folds must be at least 2"),
                          (["--data-dir", str(tmp_path)], "not found under")):
        run = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and message in run.stderr
