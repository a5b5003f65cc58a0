"""Batch scoring throughput: end to end through the queue and the database, next to the
in-process ceiling (same models, same data, no queue, no database writes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csp_queue \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 VAR_DIR=/tmp/var_queue \\
    python bench/score_bench.py --conversations 100000 --workers 2

It creates ``--conversations`` synthetic conversations (external ids ``BENCH-*``, removed
again unless ``--keep``), trains tiny linear models on a labelled sample, promotes them,
then measures:

* ceiling-1: ``predict_texts`` over every text in this process, batches of 512;
* ceiling-N: the same split over N processes (fork), i.e. the best the CPU allows;
* queue-N: a scoring job through Celery (N worker processes, ``-Q default,gpu``), timed
  from submission until the job row says succeeded: planning, broker, prediction,
  ``Prediction`` upserts and the denormalised conversation update included.

Measures, never asserts. Results go to docs/benchmarks.md ("Scoring through the queue").
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")

INTENTS = {
    "balance_inquiry": ["what is my account balance", "how much money do i have left", "show my balance"],
    "transfer": ["i want to transfer money to my friend", "send a payment abroad", "wire money to another bank"],
    "password_reset": ["i forgot my password", "reset my login password", "my password does not work"],
    "complaint": ["this service is terrible", "i want to file a complaint", "waited an hour, awful"],
    "loan_inquiry": ["what is the interest rate for a loan", "can i get a mortgage", "apply for a personal loan"],
    "credit_card_application": ["i want a new credit card", "apply for a gold card", "credit card limit increase"],
}
SENTIMENT = {"complaint": "negative", "transfer": "positive"}
WORDS = "today please thanks urgent again my account online app branch card number yesterday help".split()


def _text(rng: random.Random, intent: str) -> str:
    extra = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))
    return f"hello, {rng.choice(INTENTS[intent])} {extra}"


def setup_data(n: int, *, seed: int = 0) -> None:
    import datetime as dt

    from django.utils import timezone

    from apps.agents.models import Agent
    from apps.conversations.models import Conversation
    from apps.customers.models import Customer

    cleanup()
    rng = random.Random(seed)
    customer, _ = Customer.objects.get_or_create(external_id="BENCH-C", defaults={"display_name": "bench"})
    agents = [Agent.objects.get_or_create(external_id=f"BENCH-A{i}", defaults={"name": f"bench {i}"})[0]
              for i in range(20)]
    intents = sorted(INTENTS)
    now = timezone.now()
    batch = []
    for i in range(n):
        intent = intents[i % len(intents)]
        sentiment = SENTIMENT.get(intent, "neutral")
        quality = {"negative": 2.0, "neutral": 3.5, "positive": 4.5}[sentiment] + rng.uniform(-0.5, 0.5)
        batch.append(Conversation(
            external_id=f"BENCH-{i:07d}", customer=customer, agent=agents[i % len(agents)], channel="app",
            language="en", started_at=now - dt.timedelta(seconds=i), resolved=bool(i % 3), n_messages=2 + i % 6,
            label_intent=intent if i < 3000 else "", label_sentiment=sentiment if i < 3000 else "",
            label_quality=quality if i < 3000 else None, customer_text=_text(rng, intent),
            features={"n_turns": 2 + i % 6, "customer_chars": 40 + i % 50},
        ))
        if len(batch) == 5000:
            Conversation.objects.bulk_create(batch)
            batch = []
    Conversation.objects.bulk_create(batch)


def cleanup() -> None:
    from apps.conversations.models import Conversation
    from apps.scoring.models import Prediction

    Conversation.objects.filter(external_id__startswith="BENCH-").update(prediction=None)
    Prediction.objects.filter(conversation__external_id__startswith="BENCH-").delete()
    Conversation.objects.filter(external_id__startswith="BENCH-").delete()


def train_models() -> None:
    from apps.jobs import services as job_services
    from apps.registry import training

    job, _ = job_services.job_create(kind="retrain", enqueue=False, params={
        "backend": "linear", "promote": "always",
    })
    training.retrain_run(job_id=job.pk)


def _load_texts():
    from apps.conversations.models import Conversation
    from apps.scoring.services.predict import SCORE_FIELDS, conversation_features

    rows = list(Conversation.objects.filter(external_id__startswith="BENCH-").order_by("pk").values(*SCORE_FIELDS))
    return [r["customer_text"] for r in rows], [conversation_features(r) for r in rows]


def _predict_all(texts, features) -> float:
    from apps.registry.loader import production_models
    from apps.scoring.services import predict_texts

    models = production_models()
    predict_texts(texts=texts[:64], features=features[:64], models=models)  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), 512):
        predict_texts(texts=texts[i:i + 512], features=features[i:i + 512], models=models)
    return time.perf_counter() - start


def ceiling(texts, features, processes: int) -> float:
    """In-process prediction rate; with N processes, N copies of this script predict one slice each."""
    if processes == 1:
        return len(texts) / _predict_all(texts, features)
    procs = [
        subprocess.Popen([sys.executable, __file__, "--ceiling-slice", f"{i}/{processes}"], cwd=ROOT,
                         env=os.environ.copy(), stdout=subprocess.PIPE, text=True)
        for i in range(processes)
    ]
    times = [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    # The slices ran at the same time; the slowest one bounds the wall time.
    return len(texts) / max(times)


def _ceiling_slice(spec: str) -> None:
    index, count = (int(x) for x in spec.split("/"))
    texts, features = _load_texts()
    step = -(-len(texts) // count)
    lo, hi = index * step, min((index + 1) * step, len(texts))
    print(_predict_all(texts[lo:hi], features[lo:hi]))


def through_queue(n: int, workers: int, chunk_size: int, log_dir: Path) -> tuple[float, dict]:
    from django.conf import settings

    from apps.jobs.models import Job
    from apps.scoring.services.batch import score_job_submit

    env = {**os.environ, "MODEL_STORE": str(settings.MODEL_STORE), "LOG_LEVEL": "WARNING"}
    procs = []
    for i in range(workers):
        log = open(log_dir / f"worker{i}.log", "ab")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "-Q", "default,gpu", "-c", "1",
             "--pool", "prefork", "-n", f"bench{i}-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
             "-l", "WARNING"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    try:
        # Warm the workers (imports, model loading) with a small job, outside the timing.
        warm, _ = score_job_submit(params={"conversations": [f"BENCH-{i:07d}" for i in range(workers * 2)],
                                           "chunk_size": 1})
        _wait(warm.pk, 300)
        from apps.scoring.models import Prediction

        Prediction.objects.filter(job_id=warm.pk).delete()
        start = time.perf_counter()
        job, _ = score_job_submit(params={"all": True, "chunk_size": chunk_size})
        job = _wait(job.pk, 3600)
        elapsed = time.perf_counter() - start
        return job.done / elapsed, {"status": job.status, "done": job.done, "failed": job.failed,
                                    "total": job.total, "seconds": round(elapsed, 1)}
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def _wait(job_id: int, timeout: float):
    from apps.jobs.models import Job

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = Job.objects.get(pk=job_id)
        if job.status in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise SystemExit(f"job {job_id} did not finish in {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: settings.SCORE_CHUNK_SIZE")
    parser.add_argument("--keep", action="store_true", help="keep the BENCH-* conversations afterwards")
    parser.add_argument("--ceiling-slice", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    if args.ceiling_slice:
        return _ceiling_slice(args.ceiling_slice)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a fresh database works too
    # A persistent store: versions registered by earlier runs stay loadable (they are compared against).
    store = Path(settings.VAR_DIR) / "bench-models"
    store.mkdir(parents=True, exist_ok=True)
    settings.MODEL_STORE = store
    os.environ["MODEL_STORE"] = str(store)
    chunk = args.chunk_size or settings.SCORE_CHUNK_SIZE
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"# {args.conversations} conversations, {args.workers} workers, chunk {chunk}, database {db}, "
          f"broker {settings.CELERY_BROKER_URL.split('://')[0]}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    t = time.perf_counter()
    setup_data(args.conversations)
    print(f"# data created in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    train_models()
    print(f"# models trained in {time.perf_counter() - t:.1f}s")
    texts, features = _load_texts()
    c1 = ceiling(texts, features, 1)
    cn = ceiling(texts, features, args.workers) if args.workers > 1 else c1
    log_dir = Path(tempfile.mkdtemp(prefix="bench-logs-", dir=settings.VAR_DIR))
    rate, info = through_queue(args.conversations, args.workers, chunk, log_dir)
    print()
    print(f"| measure | conversations/s | share of ceiling-{args.workers} |")
    print("|---|---:|---:|")
    print(f"| in-process ceiling, 1 process | {c1:,.0f} | {c1 / cn:.0%} |")
    print(f"| in-process ceiling, {args.workers} processes | {cn:,.0f} | 100% |")
    print(f"| through the queue + database, {args.workers} workers | {rate:,.0f} | {rate / cn:.0%} |")
    print(f"\n# job: {info}")
    if not args.keep:
        cleanup()
    shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
