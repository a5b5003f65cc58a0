"""Benchmark reply suggestions: precision@3 of retrieved replies and search latency at 100k replies.

Data: the demo generator (``apps/demo/generator.py``), PII-masked as ingest does. A
deterministic split (sha256 of the external id, 10 % held out) keeps the query conversations
out of the index; the index holds the agent replies of the other conversations that are
resolved with quality >= 4, exactly as ``apps.scoring.services.retrieval`` selects them, built with the
same ``ml.retrieval.ReplyIndex``. Enough conversations are generated for ``--replies`` rows.

Each held-out conversation's first answered customer message is a query. precision@3 is the
share of the top-3 returned replies whose source conversation has the query's TRUE intent
(CRM label), reported with the partition chosen by

* the predicted intent (a ``linear`` intent model from ``ml/`` trained on index conversations),
* the true intent (an upper bound: what reviewed / labelled traffic gets),
* no intent at all (the whole language: how good the text similarity alone is).

Latency is wall time per ``ReplyIndex.search`` call (one query, k=3), single thread.

    .venv/bin/python bench/suggest_bench.py --replies 100000 --queries 2000
"""
import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")

from apps.demo.generator import generate_demo  # noqa: E402 - pure generator, no database
from ml.pii import mask_pii  # noqa: E402
from ml.retrieval import ReplyIndex, reply_pairs  # noqa: E402

MIN_QUALITY = 4.0
ANCHOR = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def held_out(external_id, share):
    digest = int(hashlib.sha256(external_id.encode()).hexdigest()[:8], 16)
    return digest % 1000 < share * 1000


def masked_pairs(conversation):
    messages = [dict(m, text=mask_pii(m["text"])) for m in conversation["messages"]]
    return reply_pairs(messages)


def generate(language, n_conversations, seed):
    started = time.perf_counter()
    data = generate_demo(anchor=ANCHOR, n_conversations=n_conversations, n_agents=200, n_customers=20000,
                         language=language, seed=seed, days=365)
    return data.conversations, time.perf_counter() - started


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def precision_at(index, queries, intents, k=3):
    hits = returned = full = 0
    for (text, true_intent, language), intent in zip(queries, intents):
        results = index.search(text, language=language, intent=intent, k=k)
        returned += len(results)
        full += len(results) == k
        hits += sum(r["source_intent"] == true_intent for r in results)
    return {
        "precision_at_3": hits / returned if returned else float("nan"),
        "strict_at_3": hits / (k * len(queries)) if queries else float("nan"),
        "queries_with_3": full / len(queries) if queries else float("nan"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", choices=("zh", "en"), default="zh")
    parser.add_argument("--replies", type=int, default=100_000, help="target number of indexed replies")
    parser.add_argument("--queries", type=int, default=2000, help="held-out queries to evaluate")
    parser.add_argument("--holdout", type=float, default=0.10, help="share of conversations held out")
    parser.add_argument("--train", type=int, default=20_000, help="conversations to train the intent model on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    # ~1.25 indexed replies per generated conversation in the demo data; top up if short.
    n_conversations = int(args.replies / 1.1 / (1 - args.holdout)) + 1000
    conversations, gen_s = generate(args.language, n_conversations, args.seed)

    records, queries, query_convs, train = [], [], [], []
    for conv in conversations:
        pairs = masked_pairs(conv)
        if held_out(conv["external_id"], args.holdout):
            if pairs and len(queries) < args.queries:
                queries.append((pairs[0][0], conv["label_intent"], conv["language"]))
                query_convs.append(conv)
            continue
        if len(train) < args.train:
            train.append(conv)
        if conv["resolved"] is True and conv["label_quality"] is not None and conv["label_quality"] >= MIN_QUALITY:
            for query, reply in pairs:
                records.append({"query": query, "reply": reply, "language": conv["language"],
                                "intent": conv["label_intent"], "group": conv["external_id"],
                                "source": conv["external_id"], "quality": conv["label_quality"]})
    records = records[: args.replies]
    intent_of_source = {r["source"]: r["intent"] for r in records}

    started = time.perf_counter()
    index = ReplyIndex().fit(records)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = index.save(Path(tmp) / "reply_index")
        save_s = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in path.iterdir()) / 1e6
        started = time.perf_counter()
        index = ReplyIndex.load(path)
        load_s = time.perf_counter() - started

    # Searches return the source conversation; attach its TRUE intent for scoring.
    search = index.search

    def search_with_intent(text, **kwargs):
        results = search(text, **kwargs)
        for r in results:
            r["source_intent"] = intent_of_source[r["source"]]
        return results

    scorer = type("Scorer", (), {"search": staticmethod(search_with_intent)})

    # Predicted intent: the ml/ linear backend trained on (non-held-out) customer texts and CRM labels.
    from ml.features import customer_text
    from ml.linear import LinearClassifier

    started = time.perf_counter()
    model = LinearClassifier(task="intent", random_state=0).fit(
        [customer_text(c["messages"]) for c in train], [c["label_intent"] for c in train])
    train_s = time.perf_counter() - started
    predicted = list(model.predict([mask_pii(customer_text(c["messages"])) for c in query_convs]))
    intent_accuracy = float(np.mean([p == q[1] for p, q in zip(predicted, queries)]))

    results = {
        "predicted": precision_at(scorer, queries, predicted),
        "true": precision_at(scorer, queries, [q[1] for q in queries]),
        "none": precision_at(scorer, queries, [None] * len(queries)),
    }

    # Latency: one query at a time, the predicted-intent path the API takes; warm up first.
    for (text, _, language), intent in list(zip(queries, predicted))[:50]:
        index.search(text, language=language, intent=intent, k=3)
    timings = {"intent": [], "none": []}
    for (text, _, language), intent in zip(queries, predicted):
        started = time.perf_counter()
        index.search(text, language=language, intent=intent, k=3)
        timings["intent"].append((time.perf_counter() - started) * 1000)
    for text, _, language in queries[:500]:
        started = time.perf_counter()
        index.search(text, language=language, intent=None, k=3)
        timings["none"].append((time.perf_counter() - started) * 1000)

    partitions = index.counts()[args.language]
    out = {
        "language": args.language,
        "generated_conversations": len(conversations),
        "indexed_replies": index.n_rows,
        "partitions": len(partitions),
        "largest_partition": max(partitions.values()),
        "queries": len(queries),
        "intent_model_accuracy": intent_accuracy,
        "precision": results,
        "latency_ms": {
            kind: {"mean": float(np.mean(v)), "p50": percentile(v, 50), "p95": percentile(v, 95),
                   "p99": percentile(v, 99)}
            for kind, v in timings.items()
        },
        "seconds": {"generate": gen_s, "build": build_s, "save": save_s, "load": load_s, "train_intent": train_s},
        "index_mb": size_mb,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print(f"reply index: {out['indexed_replies']:,} replies ({args.language}), {out['partitions']} intent "
          f"partitions (largest {out['largest_partition']:,}), {out['index_mb']:.1f} MB on disk; "
          f"build {build_s:.1f} s, load {load_s:.1f} s")
    print(f"queries: {len(queries)} held-out conversations; intent model accuracy {intent_accuracy:.3f}")
    print("| partition by | precision@3 | strict@3 (missing = miss) | queries with 3 replies |")
    print("|---|---|---|---|")
    for kind, label in (("predicted", "predicted intent"), ("true", "true intent (CRM label)"),
                        ("none", "no intent (whole language)")):
        r = results[kind]
        print(f"| {label} | {r['precision_at_3']:.3f} | {r['strict_at_3']:.3f} | {r['queries_with_3']:.3f} |")
    print("| search | mean ms | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for kind, label in (("intent", "one intent partition"), ("none", "whole language")):
        t = out["latency_ms"][kind]
        print(f"| {label} | {t['mean']:.2f} | {t['p50']:.2f} | {t['p95']:.2f} | {t['p99']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
