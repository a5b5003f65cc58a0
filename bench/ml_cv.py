"""Cross-validation of one backend on a dataset's training fold (the fixed split's 80 %).

Model choices are made on the training data, never on the validation split; this is the
estimate they are made on: stratified k-fold cross-validation of the training fold, each fold
fit with the backend's defaults and the ``--param`` overrides. Two runs that differ in one
parameter give a paired per-fold comparison.

    .venv/bin/python bench/ml_cv.py --dataset banking77 --backend linear
    .venv/bin/python bench/ml_cv.py --dataset banking77 --backend linear --param C=0.5
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ml_bench import DATASETS, split  # noqa: E402
from ml.cli import param_pair  # noqa: E402


def cross_validate(dataset, backend, params, data_dir, folds=5, seed=0):
    """Per-fold ``{"fold", "accuracy", "macro_f1", "fit_s"}`` of ``backend`` on ``dataset``'s training fold."""
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from tqdm import tqdm

    import ml

    task, texts, labels, _, _ = split(dataset, data_dir)
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    rows = []
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels)
    for fold, (train, test) in enumerate(tqdm(list(splits), desc=f"{dataset} {backend}", unit="fold")):
        start = time.perf_counter()
        model = ml.build(task, backend, random_state=seed, **params).fit(list(texts[train]), list(labels[train]))
        fit_s = time.perf_counter() - start
        predicted = model.predict(list(texts[test]))
        rows.append({"fold": fold, "accuracy": float(np.mean(predicted == labels[test])),
                     "macro_f1": float(f1_score(labels[test], predicted, average="macro")), "fit_s": fit_s})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="banking77")
    parser.add_argument("--backend", default="linear")
    parser.add_argument("--param", action="append", type=param_pair, default=[], metavar="KEY=VALUE",
                        help="a backend parameter (JSON value), repeatable")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="fold shuffling and the models' random_state")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--json", help="also write the folds and the mean here")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    if not (Path(args.data_dir) / DATASETS[args.dataset][0]).is_file():
        parser.error(f"{DATASETS[args.dataset][0]} not found under {args.data_dir} (--data-dir)")
    params = dict(args.param)
    rows = cross_validate(args.dataset, args.backend, params, args.data_dir, args.folds, args.seed)
    accuracy = [row["accuracy"] for row in rows]
    mean = sum(accuracy) / len(accuracy)
    sd = (sum((a - mean) ** 2 for a in accuracy) / (len(accuracy) - 1)) ** 0.5
    print(f"{args.dataset} {args.backend} {json.dumps(params, sort_keys=True)}")
    print("| fold | accuracy | macro-F1 | fit s |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['fold']} | {100 * row['accuracy']:.2f} | {100 * row['macro_f1']:.2f} | {row['fit_s']:.1f} |")
    print(f"mean accuracy {100 * mean:.2f} % (sd {100 * sd:.2f} over {len(rows)} folds)")
    if args.json:
        Path(args.json).write_text(json.dumps({"dataset": args.dataset, "backend": args.backend, "params": params,
                                               "folds": rows, "mean_accuracy": mean}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
