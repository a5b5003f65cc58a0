"""QA scoring throughput with the default bank scorecard, through the queue and the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_qa CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
    VAR_DIR=/tmp/qa-var python bench/qa_bench.py --conversations 100000 --workers 2

It creates ``--conversations`` conversations (external ids ``QABENCH-*``, eight messages each,
Chinese and English, written to pass or break the default scorecard's criteria; removed again
unless ``--keep``), seeds the default scorecard, then measures:

* rules-1: the scorecard's rules evaluated in this process on a sample (no queue, no writes);
* service-1: ``qa_results_upsert`` in this process on the sample, in chunks: transcripts loaded,
  rules evaluated, results and answers upserted (no queue);
* queue-N: a ``qa_score`` job through Celery with N worker processes (``-Q default``), timed
  from submission until the job row says succeeded: planning, broker, loading transcripts,
  evaluating, and upserting ``QaResult`` + ``CriterionAnswer`` rows included.

Measures, never asserts. Results go to docs/benchmarks.md ("QA scoring").
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")

PREFIX = "QABENCH-"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)

OPENINGS = {
    "zh": ["您好，我是客服小李，很高兴为您服务。", "您好，请问有什么可以帮您？", "您好，工号 3021 为您服务。"],
    "en": ["Hello, my name is Anna, how can I help?", "Hi there, what can I do for you?",
           "Good morning, this is Tom from the card team."],
}
CUSTOMER = {
    "zh": ["我的卡被乱扣费了，太让人生气了！", "我想查一下我的信用卡账单。", "我想转账到另一个银行。", "理财产品收益怎么样？"],
    "en": ["I was charged twice, this is ridiculous!", "I want to check my statement.", "How do I send money abroad?",
           "What returns does the new fund give?"],
}
MIDDLE = {
    "zh": ["非常抱歉给您带来不便，请您提供姓名和预留手机号核实身份。", "好的，身份验证通过，请问您是想查询最近一笔扣费吗？",
           "已经为您查到，本期账单金额为 300元，您可以通过手机银行还款。", "请您提供完整的卡号和卡背后三位安全码。",
           "这款产品保证收益 8%，稳赚不赔。", "请您稍等一下，马上为您查询。"],
    "en": ["I'm sorry about that. Can you confirm your date of birth first?", "Thanks, you're verified. Do you want the details of the last payment?",
           "I've checked it: your balance is $1,200.50 and you can pay in the app.", "Please read me the CVV on the back of your card.",
           "It is guaranteed to return 8% a year.", "Please hold on a moment, I'm checking."],
}
CLOSINGS = {"zh": ["请问还有什么可以帮您的吗？", "好的。"], "en": ["Is there anything else I can help you with?", "OK, bye."]}


def transcript(rng: random.Random, language: str) -> list[tuple[str, str, int]]:
    """Eight messages: (speaker, text, seconds since the start)."""
    t = 0
    out = [("agent", rng.choice(OPENINGS[language]), t)]
    for _ in range(3):
        t += rng.randint(5, 40)
        out.append(("customer", rng.choice(CUSTOMER[language]), t))
        t += rng.choice([8, 15, 30, 45, 150])
        out.append(("agent", rng.choice(MIDDLE[language]), t))
    t += 10
    out.append(("agent", rng.choice(CLOSINGS[language]), t))
    return out


def cleanup() -> None:
    from apps.conversations.models import Conversation

    qs = Conversation.objects.filter(external_id__startswith=PREFIX)
    while True:
        ids = list(qs.values_list("pk", flat=True)[:5000])
        if not ids:
            break
        Conversation.objects.filter(pk__in=ids).delete()


def setup_data(n: int, *, seed: int = 0) -> None:
    from apps.agents.models import Agent
    from apps.conversations.models import Conversation, Message
    from apps.core.pgcopy import copy_insert, is_postgres
    from apps.customers.models import Customer

    cleanup()
    rng = random.Random(seed)
    customer, _ = Customer.objects.get_or_create(external_id=f"{PREFIX}C", defaults={"display_name": "bench"})
    agents = [Agent.objects.get_or_create(external_id=f"{PREFIX}A{i}", defaults={"name": f"bench {i}", "team": f"t{i % 4}"})[0]
              for i in range(20)]
    for start in range(0, n, 5000):
        convs, transcripts = [], []
        for i in range(start, min(n, start + 5000)):
            language = "zh" if i % 2 else "en"
            turns = transcript(rng, language)
            started = EPOCH + dt.timedelta(seconds=i)
            transcripts.append((started, turns))
            convs.append(Conversation(
                external_id=f"{PREFIX}{i:07d}", customer=customer, agent=agents[i % len(agents)], channel="app",
                language=language, started_at=started, n_messages=len(turns),
                customer_text=" ".join(text for speaker, text, _ in turns if speaker == "customer"),
            ))
        saved = Conversation.objects.bulk_create(convs)
        rows = [
            (conv.pk, seq + 1, speaker, text, started + dt.timedelta(seconds=offset))
            for conv, (started, turns) in zip(saved, transcripts)
            for seq, (speaker, text, offset) in enumerate(turns)
        ]
        if is_postgres():
            copy_insert(Message, ["conversation", "seq", "speaker", "text", "sent_at"], rows)
        else:
            Message.objects.bulk_create([Message(conversation_id=c, seq=s, speaker=sp, text=t, sent_at=at)
                                         for c, s, sp, t, at in rows], batch_size=5000)
        print(f"  created {min(n, start + 5000)}/{n}", flush=True)


def rules_in_process(sample: int) -> float:
    from apps.conversations.models import Conversation
    from apps.qa.rules import criterion_evaluate, score_compute
    from apps.qa.services import active_version, transcripts_load, version_specs

    specs = version_specs(active_version())
    ids = list(Conversation.objects.filter(external_id__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)[:sample])
    transcripts = transcripts_load(ids)
    t0 = time.perf_counter()
    for transcript in transcripts.values():
        answers = {spec.id: criterion_evaluate(spec, transcript)[0] for spec in specs}
        score_compute(specs, answers)
    return len(transcripts) / (time.perf_counter() - t0)


def service_in_process(sample: int, chunk_size: int) -> float:
    """``qa_results_upsert`` in this process (load, evaluate, write), no queue; the rows are removed after."""
    from apps.conversations.models import Conversation
    from apps.qa.models import QaResult
    from apps.qa.services import active_version, qa_results_upsert

    version = active_version()
    ids = list(Conversation.objects.filter(external_id__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)[:sample])
    t0 = time.perf_counter()
    for start in range(0, len(ids), chunk_size):
        qa_results_upsert(conversation_ids=ids[start:start + chunk_size], version=version)
    rate = len(ids) / (time.perf_counter() - t0)
    QaResult.objects.filter(conversation_id__in=ids).delete()
    return rate


def start_workers(n: int) -> list[subprocess.Popen]:
    procs = []
    for _ in range(n):
        cmd = [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "-Q", "default", "-c", "1", "--pool",
               "prefork", "-n", f"qabench-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
               "-l", "WARNING"]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, start_new_session=True))
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def queue_run(n: int, workers: int, chunk_size: int) -> tuple[float, dict]:
    from django.db import connection

    from apps.jobs.models import Job
    from apps.qa.jobs import qa_score_submit
    from apps.qa.models import QaResult

    from csplatform.celery import app

    app.control.purge()  # messages other runs left in the broker would be timed too
    procs = start_workers(workers)
    try:
        time.sleep(8)  # let the workers connect before the clock starts
        t0 = time.perf_counter()
        job, _ = qa_score_submit(params={"since": EPOCH.isoformat(),
                                         "until": (EPOCH + dt.timedelta(seconds=n)).isoformat(),
                                         "chunk_size": chunk_size})
        while True:
            job.refresh_from_db()
            if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED):
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        connection.close()
    finally:
        stop_workers(procs)
    results = QaResult.objects.filter(conversation__external_id__startswith=PREFIX, scorecard_version_id=job.params["version"])
    info = {"status": job.status, "done": job.done, "failed": job.failed, "results": results.count(),
            "auto_failed": results.filter(auto_failed=True).count()}
    return elapsed, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="leave the conversations in the database")
    parser.add_argument("--reuse", action="store_true", help="score the conversations a --keep run left")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from apps.qa.default_scorecard import seed_default_scorecard

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; broker {settings.CELERY_BROKER_URL.split(':')[0]}")
    if not args.reuse:
        t0 = time.perf_counter()
        setup_data(args.conversations)
        print(f"setup: {args.conversations} conversations in {time.perf_counter() - t0:.1f} s")
    else:  # score from scratch: the results of an earlier run are removed first
        from apps.qa.models import QaResult

        QaResult.objects.filter(conversation__external_id__startswith=PREFIX).delete()
    seed_default_scorecard()
    try:
        print(f"rules-1 (in process, no writes): {rules_in_process(args.sample):,.0f} conversations/s")
        print(f"service-1 (in process, with writes): {service_in_process(args.sample, args.chunk_size):,.0f} conversations/s")
        elapsed, info = queue_run(args.conversations, args.workers, args.chunk_size)
        print(f"queue-{args.workers}: {info['done']} conversations in {elapsed:.1f} s = "
              f"{info['done'] / elapsed:,.0f} conversations/s ({info})")
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    main()
