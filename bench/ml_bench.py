"""Benchmark the ML backends on BANKING77 and waimai_10k (fixed 80/20 splits).

Each (dataset, backend) runs in its own subprocess so that peak memory (RSS) is per run.
Prints a markdown table (and optionally writes JSON).

    .venv/bin/python bench/ml_bench.py --data-dir ../shared/datasets \\
        --backends linear,embedding,ensemble,transformer   (also: embedding-int8)
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


def backend_params(dataset, backend, args):
    """Hyperparameters of a backend on a dataset (a Chinese model never uses the English checkpoint).

    Nothing here is tuned on the validation split: the transformer uses common fine-tuning
    defaults with a bounded step budget, the embedding head picks C by CV on the training
    data, and the ensemble fits its weights on out-of-fold training predictions.
    """
    zh = dataset == "waimai_10k"
    transformer = {"max_steps": args.transformer_steps, "progress": False}
    if zh:
        # the backend's learning rate: 1e-4 after self-pretraining, 5e-4 without (--pretrain-steps 0)
        transformer.update(checkpoint="scratch", epochs=8, max_length=96, batch_size=32,
                           eval_steps=150, pretrain_steps=args.pretrain_steps)
    else:
        # MiniLM: mean pooling, head warm-started from a probe on the frozen embeddings (LP-FT),
        # the backend's default learning rate (3e-5, head 10x)
        transformer.update(epochs=8, max_length=64, batch_size=32, eval_steps=150)
    if args.transformer_max_seconds:  # bounds self-pretraining and fine-tuning, each
        transformer["max_train_seconds"] = args.transformer_max_seconds
    if args.transformer_refit_full:  # then fine-tune again on all the training texts for the best step count
        transformer["refit_full"] = True
    if args.transformer_no_early_stopping:  # the whole budget, the last weights (and the refit trains it all too)
        transformer["patience"] = None
    if backend == "embedding-int8":  # the embedding backend with its int8 encoder
        return {"quantize": True}
    if backend == "transformer":
        return transformer
    if backend == "ensemble":
        if zh:  # jieba word + character TF-IDF and the from-scratch BERT (as ensemble "auto")
            return {"backends": ["linear", "transformer"], "member_params": {"transformer": transformer}}
        if not args.ensemble_transformer:
            return {"backends": ["linear", "embedding"]}
        # one fine-tuned MiniLM per seed; they share the early-stopping split (their held-out rows)
        seeds = [int(s) for s in args.ensemble_transformer_seeds.split(",")]
        members = ["linear", "embedding"] + ["transformer"] * len(seeds)
        params = [{}, {}] + [{**transformer, "random_state": seed, "split_seed": seeds[0]} for seed in seeds]
        return {"backends": members, "member_params": params}
    return {}


def split(dataset, data_dir):
    """The fixed split of the datasets README: stratified 20 % validation, random_state=0."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    rel, text_col, label_col, task = DATASETS[dataset]
    df = pd.read_csv(Path(data_dir) / rel)
    train, val = train_test_split(df, test_size=0.2, stratify=df[label_col], random_state=0)
    return task, train[text_col].astype(str).tolist(), train[label_col].tolist(), \
        val[text_col].astype(str).tolist(), val[label_col].tolist()


def run_one(dataset, backend, args):
    """Train and measure one backend on one dataset (called in a subprocess)."""
    import numpy as np
    import torch

    import ml
    from ml.evaluate import classification_report

    if args.threads:
        torch.set_num_threads(args.threads)
    if dataset == "waimai_10k" and backend.startswith("embedding") and not args.zh_checkpoint:
        return {"skipped": "no local Chinese checkpoint (the English one must not serve Chinese)"}
    params = backend_params(dataset, backend, args)
    if dataset == "waimai_10k" and backend.startswith("embedding"):
        params["checkpoint"] = args.zh_checkpoint
    task, train_x, train_y, val_x, val_y = split(dataset, args.data_dir)
    model = ml.build(task, backend.split("-")[0], random_state=0, **params)
    start = time.perf_counter()
    model.fit(train_x, train_y)
    train_s = time.perf_counter() - start
    proba = model.predict_proba(val_x)
    report = classification_report(val_y, model.classes_[proba.argmax(1)], proba, model.classes_)

    one_core = backend == "linear" and args.threads in (None, 1)
    if one_core:  # the target is per core: the prototypes' votes would use torch's other threads
        torch.set_num_threads(1)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    single = val_x[:200]
    model.predict_proba(single[:1])
    start = time.perf_counter()
    for text in single:
        model.predict_proba([text])
    batch1 = len(single) / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, len(val_x), 256):
        model.predict_proba(val_x[i:i + 256])
    batch256 = len(val_x) / (time.perf_counter() - start)
    result = {
        "accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "ece": report["ece"],
        "train_s": train_s, "texts_per_s_batch1": batch1, "texts_per_s_batch256": batch256,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "device": "cuda" if torch.cuda.is_available() and backend in ("embedding", "transformer", "ensemble") else "cpu",
        "n_train": len(train_x), "n_val": len(val_x), "params": params,
    }
    if torch.cuda.is_available():  # peak GPU memory of the whole run (training and inference)
        result["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    transformers = [model] if backend == "transformer" else [
        m for m in getattr(model, "members_", []) if m.backend == "transformer"]
    if transformers:
        member = transformers[0]
        result["transformer_steps"] = member.steps_
        result["transformer_best_val"] = member.best_val_accuracy_
        result["transformer_source"] = member.source_.get("checkpoint")
        result["transformer_train_s"] = member.train_seconds_
        result["transformer_pretrain"] = getattr(member, "pretrain_", None)
    if backend == "ensemble":
        y_val = np.asarray(val_y)
        result["members"] = [
            {"backend": m.backend, "weight": float(w),
             "accuracy": float(np.mean(m.predict(val_x) == y_val)),
             "params": {k: v for k, v in m.get_params().items() if k in ("tokenizer", "C", "checkpoint")}}
            for m, w in zip(model.members_, model.weights_)]
        result["temperature"] = model.temperature_
        result["oof"] = model.oof_
    if backend in ("transformer", "embedding", "ensemble"):
        result["inference_dtype"] = str(inference_dtype(model))
        if result["inference_dtype"] != "None":  # the same model in float32, for comparison
            result["float32"] = loaded_inference(model, val_x, val_y, inference_dtype="float32")
    if backend == "transformer" and result["device"] == "cpu":
        result["int8"] = loaded_inference(model, val_x, val_y, quantize=True)
    if one_core:
        result["linear_one_core"] = True
    return result


def inference_dtype(model):
    """The autocast dtype of the model's (or its first neural member's) forward passes."""
    for m in [model, *getattr(model, "members_", [])]:
        if m.backend == "transformer":
            return m.autocast_dtype_
        if m.backend == "embedding":
            return m._encoder().autocast_dtype
    return None


def loaded_inference(model, val_x, val_y, **options):
    """Accuracy and batch-256 throughput of the saved model loaded with ``options``."""
    import tempfile

    import numpy as np

    import ml

    with tempfile.TemporaryDirectory() as tmp:
        loaded = ml.load(model.save(Path(tmp) / "model"), **options)
        accuracy = float(np.mean(loaded.predict(val_x) == np.asarray(val_y)))
        start = time.perf_counter()
        for i in range(0, len(val_x), 256):
            loaded.predict_proba(val_x[i:i + 256])
        return {"accuracy": accuracy, "texts_per_s_batch256": len(val_x) / (time.perf_counter() - start)}


def machine():
    """A one-line description of this machine."""
    import torch

    from ml.encoder import native_bf16

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    bf16 = "native" if native_bf16(torch.device("cpu")) else "not native (float32 inference)"
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {gpu}; CPU bfloat16 {bf16}; "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def table(rows):
    """Markdown table of the results."""
    lines = ["| dataset | backend | device | accuracy | macro-F1 | ECE | train s | texts/s batch 1 | "
             "texts/s batch 256 | peak RSS MB | load avg (start/end) | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        r = row["result"]
        if "skipped" in r or "error" in r:
            lines.append(f"| {row['dataset']} | {row['backend']} | | | | | | | | | | {r.get('skipped') or r.get('error')} |")
            continue
        notes = []
        if "members" in r:
            notes.append("members (weight, val acc): " + ", ".join(
                f"{m['backend']}{'-jieba' if m['params'].get('tokenizer') == 'jieba' else ''} "
                f"{m['weight']:.2f} {100 * m['accuracy']:.2f}" for m in r["members"]))
            notes.append(f"T={r['temperature']:.2f}, weights fit on {r['oof'].get('n', 0)} out-of-fold train rows")
        if "transformer_steps" in r:
            notes.append(f"transformer ({'scratch' if r['transformer_source'] == 'scratch' else 'MiniLM'}) "
                         f"{r['transformer_steps']} steps of budget {row.get('budget')}, "
                         f"{r['transformer_train_s']:.0f} s")
        if "float32" in r:
            notes.append(f"inference {r['inference_dtype'].replace('torch.', '')}; loaded with "
                         f"inference_dtype=float32: {100 * r['float32']['accuracy']:.2f} %, "
                         f"{r['float32']['texts_per_s_batch256']:.0f} texts/s at batch 256")
        if "int8" in r:
            notes.append(f"loaded with quantize=True: {100 * r['int8']['accuracy']:.2f} %, "
                         f"{r['int8']['texts_per_s_batch256']:.0f} texts/s at batch 256")
        if "gpu_peak_mb" in r:
            notes.append(f"peak GPU memory {r['gpu_peak_mb']:.0f} MB")
        note = "; ".join(notes)
        lines.append(
            f"| {row['dataset']} | {row['backend']} | {r['device']} | {100 * r['accuracy']:.2f} | "
            f"{100 * r['macro_f1']:.2f} | {r['ece']:.3f} | {r['train_s']:.1f} | {r['texts_per_s_batch1']:.0f} | "
            f"{r['texts_per_s_batch256']:.0f} | {r['peak_rss_mb']:.0f} | "
            f"{row['load'][0]:.1f} / {row['load'][1]:.1f} | {note} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--backends", default="linear,embedding,ensemble,transformer")
    parser.add_argument("--datasets", default="banking77,waimai_10k")
    parser.add_argument("--transformer-steps", type=int, default=750,
                        help="training budget (optimiser steps, batch 32) of the transformer backend")
    parser.add_argument("--no-ensemble-transformer", dest="ensemble_transformer", action="store_false",
                        help="English ensemble without the fine-tuned MiniLM member (linear + embedding only)")
    parser.add_argument("--ensemble-transformer-seeds", default="0",
                        help="seeds of the English ensemble's fine-tuned MiniLM members, e.g. 0,1 (one member each)")
    parser.add_argument("--transformer-refit-full", action="store_true",
                        help="after early stopping, refit the transformer on all training texts (refit_full=True)")
    parser.add_argument("--transformer-no-early-stopping", action="store_true",
                        help="train the transformer's whole step budget and keep the last weights (patience=None)")
    parser.add_argument("--pretrain-steps", type=int, default=None,
                        help="masked-LM self-pretraining steps of the Chinese scratch BERT (default: the backend's)")
    parser.add_argument("--transformer-max-seconds", type=float, default=None,
                        help="wall-clock bound of the transformer's self-pretraining and of its fine-tuning, each")
    parser.add_argument("--zh-checkpoint", default=None, help="local Chinese checkpoint for embedding")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--json", default=None, help="also write results to this JSON file")
    parser.add_argument("--single", nargs=2, metavar=("DATASET", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    if args.single:
        print(json.dumps(run_one(args.single[0], args.single[1], args)))
        return 0
    for name in args.datasets.split(","):
        if not (Path(args.data_dir) / DATASETS[name][0]).is_file():
            parser.error(f"dataset file not found: {Path(args.data_dir) / DATASETS[name][0]}")
    rows = []
    for dataset in args.datasets.split(","):
        for backend in args.backends.split(","):
            cmd = [sys.executable, __file__, "--single", dataset, backend, "--data-dir", args.data_dir,
                   "--transformer-steps", str(args.transformer_steps)]
            if args.zh_checkpoint:
                cmd += ["--zh-checkpoint", args.zh_checkpoint]
            if args.transformer_max_seconds:
                cmd += ["--transformer-max-seconds", str(args.transformer_max_seconds)]
            if args.pretrain_steps is not None:
                cmd += ["--pretrain-steps", str(args.pretrain_steps)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            if not args.ensemble_transformer:
                cmd += ["--no-ensemble-transformer"]
            cmd += ["--ensemble-transformer-seeds", args.ensemble_transformer_seeds]
            if args.transformer_refit_full:
                cmd += ["--transformer-refit-full"]
            if args.transformer_no_early_stopping:
                cmd += ["--transformer-no-early-stopping"]
            print(f"running {dataset} / {backend} ...", file=sys.stderr, flush=True)
            load_before, started = os.getloadavg()[0], time.time()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall, load_after = time.time() - started, os.getloadavg()[0]
            if proc.returncode != 0:
                result = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
                print(proc.stderr[-3000:], file=sys.stderr)
            else:
                result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(json.dumps(result), file=sys.stderr, flush=True)
            rows.append({"dataset": dataset, "backend": backend, "result": result,
                         "budget": args.transformer_steps, "wall_s": wall,
                         "load": [load_before, load_after]})
    print(f"Machine: {machine()}\n")
    print(table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"machine": machine(), "rows": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
