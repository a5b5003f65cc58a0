"""Command line: ``python -m ml train|evaluate``.

``train`` measures the model on a held-out fraction of the file, then refits it on every
row and saves that model with the held-out metrics (``--no-refit`` saves the model fitted
without the held-out rows). Progress goes to stderr (tqdm), results to stdout.

Exit codes: 0 done, 1 unexpected failure, 2 bad input (usage, missing column, empty file,
unknown label, missing or tampered model).
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    """Bad input given on the command line."""


def param_pair(text):
    """``KEY=VALUE`` from the command line -> ``(key, value)``, the value parsed as JSON where it is JSON."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        value = json.loads(value)
    except json.JSONDecodeError:
        pass
    return key, value


def build_parser():
    """The argument parser of ``python -m ml``."""
    from ml import BACKENDS, TASKS

    parser = argparse.ArgumentParser(prog="python -m ml", description="Train and evaluate text models.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model and save it with its validation metrics")
    train.add_argument("--task", required=True, choices=TASKS)
    train.add_argument("--backend", required=True, choices=BACKENDS)
    train.add_argument("--data", required=True, help="CSV, JSONL or XLSX file")
    train.add_argument("--text-col", default="text")
    train.add_argument("--label-col", default="label")
    train.add_argument("--feature-cols", default=None,
                       help="quality: comma-separated feature columns (default: all other columns)")
    train.add_argument("--out", required=True, help="artifact directory to write")
    train.add_argument("--val-fraction", type=float, default=0.2,
                       help="held-out fraction the reported metrics are measured on")
    train.add_argument("--no-refit", dest="refit", action="store_false",
                       help="save the model fitted without the held-out rows instead of refitting on every row")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--param", action="append", type=param_pair, default=[], metavar="KEY=VALUE",
                       help="backend hyperparameter (value parsed as JSON when possible)")

    evaluate = sub.add_parser("evaluate", help="evaluate a saved model on a labelled file")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--text-col", default="text")
    evaluate.add_argument("--label-col", default="label")
    evaluate.add_argument("--feature-cols", default=None)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    return parser


def _progress(total, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, disable=None, leave=False)


def _features(frame, text_col, label_col, feature_cols):
    if feature_cols:
        from ml.io import require_columns

        columns = [c.strip() for c in feature_cols.split(",") if c.strip()]
        require_columns(frame, columns)
    else:
        columns = [c for c in frame.columns if c not in (text_col, label_col)]
    return frame[columns].reset_index(drop=True)


def _split(n, labels, val_fraction, seed, stratify):
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    if not 0 <= val_fraction < 1:
        raise UsageError("--val-fraction must be in [0, 1)")
    if val_fraction == 0:
        return index, index[:0]
    n_val = int(np.ceil(n * val_fraction))
    if n_val < 1 or n - n_val < 2:
        raise UsageError(f"too few rows ({n}) for a validation split of {val_fraction}")
    strat = None
    if stratify:
        _, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
        if counts.min() >= 2 and n_val >= len(counts):
            strat = np.asarray(labels).astype(str)
    return train_test_split(index, test_size=n_val, stratify=strat, random_state=seed)


def cmd_train(args, out):
    import ml
    from ml.evaluate import evaluate, plot_confusion
    from ml.io import read_labelled

    frame, texts, labels = read_labelled(args.data, args.text_col, args.label_col)
    quality = args.task == "quality"
    features = _features(frame, args.text_col, args.label_col, args.feature_cols) if quality else None
    if quality:
        try:
            labels = [float(v) for v in labels]
        except (TypeError, ValueError) as exc:
            raise UsageError(f"quality labels in column {args.label_col!r} must be numbers: {exc}") from exc
    elif len(set(map(str, labels))) < 2:
        raise UsageError(f"column {args.label_col!r} needs at least two distinct labels")
    train_idx, val_idx = _split(len(texts), labels, args.val_fraction, args.seed, stratify=not quality)
    params = dict(args.param)
    if args.backend == "embedding" and sys.stderr.isatty():
        params.setdefault("progress", True)

    def fit(idx):
        model = ml.build(args.task, args.backend, random_state=args.seed, **params)
        return model.fit([texts[i] for i in idx], [labels[i] for i in idx],
                         features.iloc[idx].reset_index(drop=True) if quality else None)

    refit = args.refit and len(val_idx) > 0
    bar = _progress(4 if refit else 3, "train")
    bar.set_postfix_str("fit")
    model = fit(train_idx)
    bar.update(1)
    extra, report = {}, None
    if len(val_idx):
        bar.set_postfix_str("evaluate")
        report = evaluate(model, [texts[i] for i in val_idx], [labels[i] for i in val_idx],
                          features.iloc[val_idx].reset_index(drop=True) if quality else None)
        if not quality:
            extra["confusion_matrix.json"] = json.dumps(
                {"classes": report["classes"], "matrix": report["confusion_matrix"],
                 "per_class": report["per_class"]}, indent=1, ensure_ascii=False).encode()
            with tempfile.TemporaryDirectory() as tmp:
                png = Path(tmp) / "confusion_matrix.png"
                plot_confusion(report["confusion_matrix"], report["classes"], png)
                extra["confusion_matrix.png"] = png.read_bytes()
    bar.update(1)
    if refit:
        bar.set_postfix_str("refit on every row")
        model = fit(np.arange(len(texts)))
        bar.update(1)
    if report is not None:
        model.metrics_ = {k: v for k, v in report.items() if k not in ("per_class", "confusion_matrix", "classes")}
        model.metrics_["split"] = {"val_fraction": args.val_fraction, "seed": args.seed, "n_train": len(train_idx),
                                   "n_validation": len(val_idx), "refit_on_all_rows": refit}
    bar.set_postfix_str("save")
    path = model.save(args.out, extra_files=extra)
    bar.update(1)
    bar.close()
    summary = f"trained {args.task}/{args.backend} on {model.n_train_} rows -> {path}"
    if report is not None:
        where = f"held-out {len(val_idx)} rows" + (", then refit on every row" if refit else "")
        if quality:
            summary += f"; {where}: mae={report['mae']:.3f} spearman={report['spearman']}"
        else:
            summary += (f"; {where}: accuracy={report['accuracy']:.4f} "
                        f"macro_f1={report['macro_f1']:.4f} ece={report['ece']:.4f}")
    print(summary, file=out)
    return EXIT_OK


def cmd_evaluate(args, out):
    import ml
    from ml.evaluate import evaluate
    from ml.io import read_labelled

    model = ml.load(args.model)
    frame, texts, labels = read_labelled(args.data, args.text_col, args.label_col)
    features = None
    if model.task == "quality":
        features = _features(frame, args.text_col, args.label_col, args.feature_cols)
        labels = [float(v) for v in labels]
    else:
        labels = _match_label_type(labels, model.classes_)
    report = evaluate(model, texts, labels, features)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=_default), file=out)
    elif model.task == "quality":
        print(f"n={report['n']} mae={report['mae']:.4f} rmse={report['rmse']:.4f} "
              f"spearman={report['spearman']}", file=out)
    else:
        print(f"n={report['n']} accuracy={report['accuracy']:.4f} macro_f1={report['macro_f1']:.4f} "
              f"ece={report['ece']:.4f}", file=out)
    return EXIT_OK


def _match_label_type(labels, classes):
    """Cast file labels to the classes' type (e.g. 1 vs "1") where that is lossless."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu":
        try:
            return [int(v) if float(v) == int(float(v)) else v for v in labels]
        except (TypeError, ValueError):
            return labels
    if classes.dtype.kind in "UO":
        return [str(v) for v in labels]
    return labels


def _default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate}


def main(argv=None, out=None):
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, optional
    out : file-like, optional
        Where results go (default stdout); messages go to stderr.
    """
    from ml.artifacts import ArtifactError
    from ml.io import DataError

    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except (ArtifactError, DataError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, KeyError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
