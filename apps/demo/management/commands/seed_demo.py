"""``manage.py seed_demo``: a deterministic demo contact centre, written through the ingest services."""
import argparse
import datetime as dt
import secrets
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from apps.agents.services import agents_upsert
from apps.demo.generator import anchor_datetime, generate_demo
from apps.demo.services import demo_users_ensure
from apps.qa.default_scorecard import seed_default_scorecard
from apps.conversations.services import conversations_upsert
from apps.core.bulk import UpsertResult
from apps.customers.services import customers_upsert


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


_positive.__name__ = "positive integer"
_non_negative.__name__ = "non-negative integer"
_date.__name__ = "date (YYYY-MM-DD)"


class Command(BaseCommand):
    help = (
        "Seed a synthetic bank contact centre (customers, agents, multi-turn conversations with CRM labels) "
        "through the ingest services. Deterministic for a seed and anchor date; re-running changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=_non_negative, default=3000, help="Conversations (default 3000).")
        parser.add_argument("--agents", type=_positive, default=50, help="Agents (default 50).")
        parser.add_argument("--customers", type=_positive, default=800, help="Customers (default 800).")
        parser.add_argument("--language", choices=["zh", "en"], default="zh", help="Text language (default zh).")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        parser.add_argument("--days", type=_positive, default=30, help="Days of history before the anchor (default 30).")
        parser.add_argument(
            "--anchor-date", type=_date, default=None,
            help="End of the period (exclusive), YYYY-MM-DD; default today in TIME_ZONE. Fix it for reproducible data.",
        )
        parser.add_argument("--batch", type=_positive, default=1000, help="Items per ingest call (default 1000).")
        parser.add_argument(
            "--users", action=argparse.BooleanOptionalAction, default=False,
            help="Also create console users (manager, reviewer, a team lead per team, agent users) sharing one "
                 "password, written to var/demo-credentials.env (default: no).",
        )
        parser.add_argument(
            "--scorecard", action=argparse.BooleanOptionalAction, default=False,
            help="Also publish and activate the default bank QA scorecard (default: no).",
        )

    def handle(self, *args, conversations, agents, customers, language, seed, days, anchor_date, batch, users,
               scorecard, verbosity, **options):
        # Midnight in settings.TIME_ZONE: the same data all day, whenever the command runs.
        anchor = anchor_datetime(anchor_date or timezone.localdate(), timezone.get_default_timezone())
        try:
            data = generate_demo(
                anchor=anchor, n_conversations=conversations, n_agents=agents, n_customers=customers,
                language=language, seed=seed, days=days,
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc

        show = verbosity > 0 and sys.stderr.isatty()
        totals = {"customers": UpsertResult(), "agents": UpsertResult(), "conversations": UpsertResult()}
        steps = (
            ("customers", customers_upsert, data.customers),
            ("agents", agents_upsert, data.agents),
            ("conversations", conversations_upsert, data.conversations),
        )
        n_items = sum(len(items) for _, _, items in steps)
        with tqdm(total=n_items, unit="item", disable=not show, file=sys.stderr, desc="seed_demo") as bar:
            for name, upsert, items in steps:
                bar.set_postfix_str(name)
                for start in range(0, len(items), batch):
                    chunk = items[start:start + batch]
                    totals[name] += upsert(items=chunk)
                    bar.update(len(chunk))

        logins = self._users() if users else []
        version = seed_default_scorecard() if scorecard else None
        if verbosity == 0:
            return
        summary = "; ".join(
            f"{name} {r.created} created / {r.updated} updated / {r.unchanged} unchanged" for name, r in totals.items()
        )
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ({language}, seed {seed}, {days} days to {anchor.date().isoformat()}): {summary}."
        ))
        if version is not None:
            self.stdout.write(f"QA scorecard: {version} (active).")
        if logins:
            self.stdout.write(f"Console users ({len(logins)}, password in var/demo-credentials.env): "
                              + ", ".join(f"{u.username} ({u.role})" for u in logins))

    def _users(self):
        """Create the demo's console users with the password kept in the credentials file (new if none)."""
        path = settings.VAR_DIR / "demo-credentials.env"
        values = {}
        if path.exists():
            values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        values.setdefault("DEMO_USERS_PASSWORD", secrets.token_urlsafe(12))
        logins = demo_users_ensure(password=values["DEMO_USERS_PASSWORD"])
        values["DEMO_USERS"] = ",".join(f"{u.username}:{u.role}" for u in logins)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
        return logins
