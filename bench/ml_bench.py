"""Benchmark the ML backends on BANKING77 and waimai_10k (the fixed 80/20 splits of the datasets README).

For each (dataset, backend), in its own subprocess: fit seconds on the training split,
accuracy and macro-F1 on the validation split, and predict throughput (texts/s at batch
256) with one native thread; peak RSS. Prints a markdown table (and optionally JSON).
Pin the process to one core for the single-core throughput figure:

    taskset -c 0 .venv/bin/python bench/ml_bench.py --backends linear
    .venv/bin/python bench/ml_bench.py --backends linear,embedding,ensemble --datasets banking77

Every backend runs with its defaults: nothing here is tuned on the validation split.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATASETS = {
    # name: (relative csv path, text column, label column, task)
    "banking77": ("banking77/train.csv", "text", "category", "intent"),
    "waimai_10k": ("waimai_10k/waimai_10k.csv", "review", "label", "sentiment"),
}
THROUGHPUT_TEXTS = 2048
BATCH = 256


def split(dataset, data_dir):
    """The fixed split of the datasets README: stratified 20 % validation, random_state=0."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    rel, text_col, label_col, task = DATASETS[dataset]
    df = pd.read_csv(Path(data_dir) / rel)
    train, val = train_test_split(df, test_size=0.2, stratify=df[label_col], random_state=0)
    return task, train[text_col].astype(str).tolist(), train[label_col].tolist(), \
        val[text_col].astype(str).tolist(), val[label_col].tolist()


def run_one(dataset, backend, data_dir):
    """Fit and measure one backend on one dataset (called in a subprocess)."""
    import numpy as np
    import torch
    from sklearn.metrics import f1_score
    from threadpoolctl import threadpool_limits

    import ml

    task, train_x, train_y, val_x, val_y = split(dataset, data_dir)
    model = ml.build(task, backend, random_state=0)
    start = time.perf_counter()
    model.fit(train_x, train_y)
    fit_s = time.perf_counter() - start
    predicted = model.predict(val_x)
    members = {member.backend: float(np.mean(member.predict(val_x) == np.asarray(val_y)))
               for member in getattr(model, "members_", [])}
    texts = (val_x * (THROUGHPUT_TEXTS // len(val_x) + 1))[:THROUGHPUT_TEXTS]
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        model.predict_proba(texts[:BATCH])  # warm-up
        start = time.perf_counter()
        for i in range(0, len(texts), BATCH):
            model.predict_proba(texts[i:i + BATCH])
        texts_per_s = len(texts) / (time.perf_counter() - start)
    return {
        "dataset": dataset, "backend": backend, "n_train": len(train_x), "n_val": len(val_x),
        "accuracy": float(np.mean(predicted == np.asarray(val_y))),
        "macro_f1": float(f1_score(val_y, predicted, average="macro")),
        "members_accuracy": members, "fit_s": round(fit_s, 1), "texts_per_s_1thread": round(texts_per_s),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpus": sorted(os.sched_getaffinity(0)),
    }


def machine():
    """Where the figures come from."""
    return {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)), "cuda": _cuda_name()}


def _cuda_name():
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def table(rows):
    lines = ["| dataset | backend | accuracy | macro-F1 | fit s | predict texts/s (1 thread, batch 256) | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['backend']} | {100 * r['accuracy']:.2f} % | {100 * r['macro_f1']:.2f} % "
                     f"| {r['fit_s']} | {r['texts_per_s_1thread']:,} | {r['peak_rss_mb']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--backends", default="linear,embedding,ensemble")
    parser.add_argument("--datasets", default="banking77,waimai_10k")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--single", nargs=2, metavar=("DATASET", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single:
        print(json.dumps(run_one(*args.single, args.data_dir)))
        return 0
    rows = []
    for dataset in args.datasets.split(","):
        for backend in args.backends.split(","):
            proc = subprocess.run([sys.executable, __file__, "--data-dir", args.data_dir, "--single", dataset, backend],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{dataset}/{backend} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "date": time.strftime("%Y-%m-%d"),
                                               "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
