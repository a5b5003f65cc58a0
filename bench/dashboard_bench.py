"""Console overview server time on N conversations in PostgreSQL (measures, never asserts).

    .venv/bin/python bench/dashboard_bench.py [--conversations 1000000] [--days 365] [--runs 7] [--refill]

Fills a separate database (``csp_dashbench`` on 127.0.0.1, created and migrated when missing) with
INSERT ... SELECT generate_series SQL: N conversations over ``--days`` days with predictions (inserted in time order, as a CRM feed arrives),
each with an end time, two messages (customer, then agent) and the first response time ingest derives
from them (``features.first_response_s``), 200 agents in 10 teams, 2% of conversations in the review queue (half of them reviewed). Then, with
Django's test Client logged in as staff, it times GET /dashboard/ (default range: the 30 days ending
at the newest conversation), filtered variants and an all-time range; median of ``--runs`` after one
warm-up, plus each selector's median. Data is reused across runs unless ``--refill`` or N differs.
"""
import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "csp_dashbench"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


FILL_SQL = """
TRUNCATE scoring_reviewitem, conversations_message, conversations_conversation, agents_agent,
         customers_customer RESTART IDENTITY CASCADE;
INSERT INTO customers_customer (external_id, display_name, age, gender, city, segment, vip_level, created_at, updated_at)
SELECT 'C' || lpad(g::text, 7, '0'), '客户' || g, 18 + (g % 60), '', '上海',
       CASE WHEN g % 5 = 0 THEN 'business' ELSE 'personal' END, 'normal', now(), now()
FROM generate_series(1, %(customers)s) g;
INSERT INTO agents_agent (external_id, name, team, active, created_at, updated_at)
SELECT 'A' || lpad(g::text, 4, '0'), '坐席' || g, 'team-' || (g % 10), true, now(), now()
FROM generate_series(1, %(agents)s) g;
INSERT INTO conversations_conversation (
    external_id, customer_id, agent_id, channel, language, started_at, resolved, csat,
    label_intent, label_sentiment, customer_text, n_messages, features, content_hash,
    predicted_intent, predicted_sentiment, predicted_quality, uncertain, created_at, updated_at)
SELECT 'B' || lpad(g::text, 8, '0'),
       1 + (g::bigint * 7919) %% %(customers)s,
       1 + (g * 31) %% %(agents)s,
       (ARRAY['web','app','phone','wechat','email'])[1 + (g %% 5)],
       'zh',
       %(end)s::timestamptz - ((%(n)s - g) * (%(days)s * 86400.0 / %(n)s) + random() * 600) * interval '1 second',
       random() < 0.8,
       CASE WHEN random() < 0.6 THEN 1 + floor(random() * 5)::int END,
       '', '', '', 4, '{}'::jsonb, '',
       (ARRAY['账户查询','余额查询','转账汇款','信用卡申请','贷款咨询','投资理财','保险咨询','技术支持','投诉建议','产品介绍',
              '费用查询','密码重置','开户申请','销户申请','优惠活动','网点查询','汇率查询','还款提醒','风险评估','其他咨询'])[1 + floor(random() * 20)::int],
       (ARRAY['negative','neutral','neutral','positive','positive'])[1 + floor(random() * 5)::int],
       1 + round((random() * 4)::numeric, 2)::float,
       random() < 0.07,
       now(), now()
FROM generate_series(1, %(n)s) g;
INSERT INTO scoring_reviewitem (conversation_id, reasons, status, intent, sentiment, quality, created_at, reviewed_at)
SELECT id, '["negative_sentiment"]'::jsonb,
       CASE WHEN id %% 2 = 0 THEN 'reviewed' ELSE 'pending' END,
       CASE WHEN id %% 2 = 0 THEN '投诉建议' ELSE '' END,
       CASE WHEN id %% 2 = 0 THEN 'negative' ELSE '' END,
       CASE WHEN id %% 2 = 0 THEN 2.0 END,
       now(), CASE WHEN id %% 2 = 0 THEN now() END
FROM conversations_conversation WHERE id %% 50 = 0;
UPDATE conversations_conversation SET ended_at = started_at + (60 + random() * 900) * interval '1 second';
INSERT INTO conversations_message (conversation_id, seq, speaker, text, sent_at)
SELECT id, 1, 'customer', '', started_at FROM conversations_conversation
UNION ALL
SELECT id, 2, 'agent', '', started_at + (5 + random() * 300) * interval '1 second' FROM conversations_conversation;
UPDATE conversations_conversation c SET features = jsonb_build_object('first_response_s',
       EXTRACT(EPOCH FROM m.sent_at - c.started_at)::float)
FROM conversations_message m WHERE m.conversation_id = c.id AND m.seq = 2;
"""


def fill(n: int, days: int) -> None:
    from django.db import connection

    params = {"n": n, "days": days, "customers": max(1000, n // 20), "agents": 200,
              "end": "2026-11-01 00:00:00+08"}
    sql = FILL_SQL.replace("%(customers)s", str(params["customers"])).replace("%(agents)s", str(params["agents"]))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in [s.strip() for s in sql.split(";\n") if s.strip()]:
            cursor.execute(statement.replace("%%", "%").replace("%(n)s", str(n)).replace("%(days)s", str(days))
                           .replace("%(end)s", f"'{params['end']}'"))
    connection.commit() if not connection.get_autocommit() else None
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"filled {n} conversations over {days} days in {time.perf_counter() - started:.1f} s")


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up (connection, caches, plans)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()

    ensure_database()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from apps.conversations.models import Conversation
    from apps.dashboard import selectors

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    have = Conversation.objects.count()
    if args.refill or have != args.conversations:
        fill(args.conversations, args.days)
    else:
        print(f"reusing {have} conversations in {DB_NAME}")

    user, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)
    latest = selectors.latest_conversation_date()
    all_from = latest.replace(year=latest.year - 1)
    cases = {
        "overview, default 30 days": "/dashboard/",
        "overview, 30 days, channel=app": "/dashboard/?channel=app",
        "overview, 30 days, team=team-3": "/dashboard/?team=team-3",
        "overview, 30 days, intent=投诉建议": "/dashboard/?intent=投诉建议",
        "overview, 7 days": f"/dashboard/?date_from={latest - dt.timedelta(days=6)}&date_to={latest}",
        "overview, all time (1 year)": f"/dashboard/?date_from={all_from}&date_to={latest}",
        "overview, all time, weekly groups": f"/dashboard/?date_from={all_from}&date_to={latest}&group=week",
        "teams leaderboard, 30 days": "/dashboard/teams/",
        "team page, 30 days": "/dashboard/teams/team-3/",
        "conversation list, 30 days (page 1)": "/dashboard/conversations/",
        "agent report, 30 days": "/dashboard/agents/1/",
    }
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}, "
          f"{os.cpu_count()} CPUs; median of {args.runs} runs after a warm-up")
    print("\nserver time per page (Django test Client, whole request incl. template):")
    for label, url in cases.items():
        status = client.get(url).status_code
        ms = median_ms(lambda: client.get(url), args.runs)
        print(f"  {label:<42} {ms:8.1f} ms  (HTTP {status})")

    print("\nper selector, default 30-day range:")
    f = selectors.ConversationFilters().with_default_range()
    for name in ("overview_hourly", "overview_mix", "overview_agents"):
        fn = getattr(selectors, name)
        print(f"  {name:<42} {median_ms(lambda: fn(f), args.runs):8.1f} ms")
    print(f"  {'overview_data (all three + folding)':<42} {median_ms(lambda: selectors.overview_data(f), args.runs):8.1f} ms")
    f_all = selectors.ConversationFilters(date_from=all_from, date_to=latest)
    print("\nper selector, all time (1 year):")
    for name in ("overview_hourly", "overview_mix", "overview_agents"):
        fn = getattr(selectors, name)
        print(f"  {name:<42} {median_ms(lambda: fn(f_all), args.runs):8.1f} ms")


if __name__ == "__main__":
    main()
