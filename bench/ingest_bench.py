"""Bulk-upsert N conversations (4 messages each) through the ingest service; print conversations/s.

    .venv/bin/python bench/ingest_bench.py [--conversations 100000] [--backend sqlite|postgres|both] [--procs 2]

Each backend gets a fresh database (SQLite file under var/, PostgreSQL database ``csp_ingest_bench``
on 127.0.0.1), migrated before timing. The second pass replays the same batches (idempotent path).
"""
import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_URL = "postgres://postgres@127.0.0.1:5432/csp_ingest_bench"


def items(start: int, n: int) -> list[dict]:
    t0 = dt.datetime(2026, 11, 1, 9, tzinfo=dt.timezone.utc)
    out = []
    for i in range(start, start + n):
        t = t0 + dt.timedelta(seconds=i * 7)
        out.append({
            "external_id": f"B{i:08d}", "customer": f"C{i % 20000:06d}", "agent": f"A{i % 50:03d}",
            "channel": ("web", "app", "phone", "wechat")[i % 4], "language": "zh", "started_at": t,
            "ended_at": t + dt.timedelta(minutes=5), "resolved": bool(i % 3), "csat": 1 + i % 5,
            "label_intent": "余额查询", "label_sentiment": "neutral", "label_quality": 3.5,
            "messages": [
                {"seq": 0, "speaker": "customer", "text": f"你好，我想查询一下我尾号{i % 10000:04d}的账户余额", "sent_at": t},
                {"seq": 1, "speaker": "agent", "text": "您好，请提供一下您的身份验证信息", "sent_at": t + dt.timedelta(seconds=20)},
                {"seq": 2, "speaker": "customer", "text": "好的，已经验证了，请帮我看一下，联系电话13800138000", "sent_at": t + dt.timedelta(seconds=60)},
                {"seq": 3, "speaker": "agent", "text": "您的余额是 5,000.00 元，还有其他问题吗？", "sent_at": t + dt.timedelta(seconds=90)},
            ],
        })
    return out


def _setup():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    django.setup()


def _ingest(args: tuple[int, int, int]) -> list[int]:
    """One client: upsert its share of the batches (what one API worker or import process does)."""
    start, stop, batch = args
    from django.db import connection

    from apps.conversations.services import conversations_upsert

    counts = [0, 0, 0]
    for s in range(start, stop, batch):
        r = conversations_upsert(items=items(s, min(batch, stop - s)))
        counts = [counts[0] + r.created, counts[1] + r.updated, counts[2] + r.unchanged]
    connection.close()
    return counts


def run_one(n: int, batch: int, procs: int) -> None:
    import multiprocessing

    _setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    connection.close()
    share = -(-n // procs)
    jobs = [(i * share, min(n, (i + 1) * share), batch) for i in range(procs)]
    for label in ("insert", "replay"):
        # Items are generated inside the timed region, as a client would receive them.
        t = time.perf_counter()
        if procs == 1:
            results = [_ingest(jobs[0])]
        else:
            with multiprocessing.get_context("fork").Pool(procs) as pool:
                results = pool.map(_ingest, jobs)
        secs = time.perf_counter() - t
        counts = [sum(r[i] for r in results) for i in range(3)]
        print(f"| {vendor} | {procs} | {label} | {n:,} | {secs:.1f} s | {n / secs:,.0f} conv/s "
              f"| created {counts[0]:,} updated {counts[1]:,} unchanged {counts[2]:,} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=1, help="concurrent clients (processes)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        return run_one(args.conversations, args.batch, args.procs)
    print("| database | clients | pass | conversations | time | rate | counts |\n|---|---|---|---|---|---|---|",
          flush=True)
    for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
        env = {**os.environ, "VAR_DIR": str(ROOT / "var" / "bench-ingest")}
        env.pop("DATABASE_URL", None)
        if backend == "sqlite":
            db = ROOT / "var" / "bench-ingest" / "db.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        else:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "csp_ingest_bench"], check=True)
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "csp_ingest_bench"], check=True)
            env["DATABASE_URL"] = PG_URL
        subprocess.run([sys.executable, __file__, "--_child", "--conversations", str(args.conversations),
                        "--batch", str(args.batch), "--procs", str(args.procs)], env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
