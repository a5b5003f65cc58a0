"""Evaluation reports."""

import numpy as np
import pytest

import ml
from ml.evaluate import (classification_report, evaluate, expected_calibration_error, plot_confusion,
                         regression_report)


def test_classification_report():
    y_true = ["a", "a", "b", "b", "c"]
    y_pred = ["a", "b", "b", "b", "a"]
    proba = np.array([[0.9, 0.1, 0], [0.4, 0.6, 0], [0, 1, 0], [0.2, 0.8, 0], [0.5, 0.2, 0.3]])
    report = classification_report(y_true, y_pred, proba, ["a", "b", "c"])
    assert report["n"] == 5 and report["accuracy"] == pytest.approx(0.6)
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert report["per_class"]["b"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert report["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert 0 < report["ece"] < 1


def test_ece_is_zero_when_calibrated_and_large_when_overconfident():
    proba = np.array([[1.0, 0.0]] * 4)
    assert expected_calibration_error(np.array([0, 0, 0, 0]), proba) == 0.0
    assert expected_calibration_error(np.array([1, 1, 1, 1]), proba) == 1.0
    half = np.array([[0.5, 0.5]] * 4)
    assert expected_calibration_error(np.array([0, 0, 1, 1]), half) == pytest.approx(0.0)


def test_regression_report():
    report = regression_report([1, 2, 3, 4], [1.5, 2, 3, 5])
    assert report == pytest.approx({"n": 4, "mae": 0.375, "rmse": np.sqrt(1.25 / 4), "spearman": 1.0})
    assert regression_report([3, 3], [1, 2])["spearman"] is None


def test_plot_confusion_writes_png(tmp_path):
    plot_confusion([[3, 1], [0, 4]], ["neg", "pos"], tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_dispatches_and_checks_labels(banking_slice):
    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    report = evaluate(model, test_x, test_y)
    assert report["task"] == "intent" and report["n"] == len(test_x)
    assert report["accuracy"] > 0.6
    with pytest.raises(ValueError, match="unknown to the model: other"):
        evaluate(model, test_x[:2], ["card_arrival", "other"])
