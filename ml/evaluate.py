"""Evaluation: classification and regression reports, calibration, confusion-matrix plots."""

import numpy as np


def expected_calibration_error(y_true_index, proba, n_bins=15):
    """Expected calibration error of the top-class confidence (equal-width bins).

    Parameters
    ----------
    y_true_index : ndarray of int
        True class indices (columns of ``proba``).
    proba : ndarray of shape (n, n_classes)
    n_bins : int

    Returns
    -------
    float
    """
    proba = np.asarray(proba, dtype=float)
    if len(proba) == 0:
        return 0.0
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == np.asarray(y_true_index)).astype(float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def classification_report(y_true, y_pred, proba=None, classes=None):
    """Classification metrics as a JSON-ready dict.

    Parameters
    ----------
    y_true, y_pred : sequence of labels
    proba : ndarray of shape (n, n_classes), optional
        Columns in ``classes`` order; needed for ``ece``.
    classes : sequence of labels, optional
        Label order of the per-class table and the confusion matrix (default: sorted
        union of true and predicted labels).

    Returns
    -------
    dict
        ``n, accuracy, macro_f1, weighted_f1, per_class {label: {precision, recall, f1,
        support}}, classes, confusion_matrix`` (rows true, columns predicted) and ``ece``
        (None without ``proba``).
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(list(y_true))
    y_pred = np.asarray(list(y_pred))
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    classes = np.asarray(list(classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    present = support > 0
    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    ece = None
    if proba is not None and len(y_true):
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        index = np.array([lookup.get(c, -1) for c in y_true.tolist()])
        ece = expected_calibration_error(index, proba)
    n = int(len(y_true))
    return {
        "n": n,
        "accuracy": float(np.mean(y_true == y_pred)) if n else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_f1": float(np.average(f1, weights=support)) if support.sum() else 0.0,
        "ece": ece,
        "classes": [_plain(c) for c in classes],
        "per_class": {
            str(_plain(c)): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
        "confusion_matrix": matrix.tolist(),
    }


def regression_report(y_true, y_pred):
    """Regression metrics: ``n, mae, rmse, spearman``.

    Parameters
    ----------
    y_true, y_pred : sequence of float

    Returns
    -------
    dict
    """
    from scipy.stats import spearmanr

    y_true = np.asarray(list(y_true), dtype=float)
    y_pred = np.asarray(list(y_pred), dtype=float)
    error = y_pred - y_true
    spearman = None
    if len(y_true) > 1 and np.ptp(y_true) > 0 and np.ptp(y_pred) > 0:
        spearman = float(spearmanr(y_true, y_pred).statistic)
    return {
        "n": int(len(y_true)),
        "mae": float(np.abs(error).mean()) if len(error) else 0.0,
        "rmse": float(np.sqrt((error**2).mean())) if len(error) else 0.0,
        "spearman": spearman,
    }


def plot_confusion(matrix, classes, path, normalize=True):
    """Save a confusion matrix as a PNG (matplotlib, Agg backend).

    Parameters
    ----------
    matrix : array-like of shape (n_classes, n_classes)
        Rows true, columns predicted.
    classes : sequence of labels
    path : str or Path
    normalize : bool
        Colour by row share (recall) instead of counts.
    """
    import matplotlib

    matrix = np.asarray(matrix, dtype=float)
    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    n = len(classes)
    size = min(max(4.0, 0.22 * n + 2), 30.0)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    fontsize = 8 if n <= 20 else 5
    ax.set_xticklabels([str(c) for c in classes], rotation=90, fontsize=fontsize)
    ax.set_yticklabels([str(c) for c in classes], fontsize=fontsize)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 12:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 0.5 * (shown.max() or 1) else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate(estimator, texts, y, features=None):
    """Evaluate a fitted estimator on labelled texts.

    Parameters
    ----------
    estimator : fitted estimator from :func:`ml.build` or :func:`ml.load`
    texts : sequence of str
    y : sequence of labels (classification) or scores (quality)
    features : list of dict or DataFrame, optional
        Conversation features (quality task).

    Returns
    -------
    dict
        :func:`classification_report` or :func:`regression_report` plus ``task`` and
        ``backend``.

    Raises
    ------
    ValueError
        A label unknown to a classifier.
    """
    texts = [str(t) for t in texts]
    y = list(y)
    if estimator.task == "quality":
        report = regression_report(y, estimator.predict(texts, features))
    else:
        known = set(np.asarray(estimator.classes_).tolist())
        unknown = sorted({str(label) for label in y if label not in known})
        if unknown:
            shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            raise ValueError(f"labels unknown to the model: {shown}")
        proba = estimator.predict_proba(texts)
        y_pred = estimator.classes_[proba.argmax(axis=1)]
        report = classification_report(y, y_pred, proba, estimator.classes_)
    report["task"] = estimator.task
    report["backend"] = estimator.backend
    return report


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
