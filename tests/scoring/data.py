"""Small generated labelled conversations and tiny linear models for the queue's tests."""
from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

INTENT_TEXTS = {
    "balance_inquiry": ["what is my account balance", "show me the balance please", "how much money is left"],
    "transfer": ["i want to transfer money to my friend", "send a payment to another bank", "wire transfer fee"],
    "password_reset": ["i forgot my password", "reset the login password", "cannot log in, password wrong"],
    "complaint": ["this service is terrible, i am angry", "i want to complain about the branch", "awful waiting"],
}
SENTIMENT_BY_INTENT = {"balance_inquiry": "neutral", "transfer": "positive", "password_reset": "neutral",
                       "complaint": "negative"}
QUALITY_BY_SENTIMENT = {"negative": 2.0, "neutral": 3.5, "positive": 4.5}
FILLERS = ["", " thanks", " please help", " today", " asap", " hello", " urgent"]


def generate_rows(n: int, *, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    intents = sorted(INTENT_TEXTS)
    rows = []
    for i in range(n):
        intent = intents[i % len(intents)]
        sentiment = SENTIMENT_BY_INTENT[intent]
        rows.append({"text": rng.choice(INTENT_TEXTS[intent]) + rng.choice(FILLERS), "intent": intent,
                     "sentiment": sentiment, "quality": QUALITY_BY_SENTIMENT[sentiment]})
    return rows


def train_artifacts(directory, n: int = 120) -> dict:
    """Fit tiny models on generated rows (no database) and save them under ``directory``."""
    import ml

    rows = generate_rows(n)
    texts = [r["text"] for r in rows]
    out = {}
    for task in ("intent", "sentiment", "quality"):
        backend = "quality" if task == "quality" else "linear"
        labels = [r[task] for r in rows]
        features = [{"channel": "app", "n_turns": 2 + i % 4} for i in range(n)]
        estimator = ml.build(task, backend, **QUICK_HYPERPARAMS[task]).fit(texts, labels, features=features)
        out[task] = estimator.save(directory / task)
    return out


def make_conversations(n: int, *, seed: int = 0, day: dt.date | None = None, agents=None, prefix: str = "T"):
    """Create ``n`` labelled conversations (bulk) and return their ids."""
    from apps.conversations.models import Conversation
    from tests.factories import AgentFactory, CustomerFactory

    agents = agents or [AgentFactory(), AgentFactory()]
    customer = CustomerFactory()
    start = (
        timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
        if day else timezone.now() - dt.timedelta(hours=2)
    )
    rows = []
    for i, row in enumerate(generate_rows(n, seed=seed)):
        rows.append(Conversation(
            external_id=f"{prefix}{seed:03d}-{i:06d}", customer=customer, agent=agents[i % len(agents)],
            channel="app", language="en", started_at=start + dt.timedelta(seconds=i), resolved=i % 3 != 0,
            label_intent=row["intent"], label_sentiment=row["sentiment"], label_quality=row["quality"],
            customer_text=row["text"], n_messages=2 + i % 4,
        ))
    Conversation.objects.bulk_create(rows, batch_size=1000)
    return list(Conversation.objects.filter(external_id__startswith=f"{prefix}{seed:03d}-").order_by("pk")
                .values_list("pk", flat=True))


def train_and_promote(*, tasks=("intent", "sentiment", "quality"), hyperparams=None):
    """Train tiny models from the labelled conversations in-process and promote them."""
    from apps.jobs import services as job_services
    from apps.registry import training

    job, _ = job_services.job_create(kind="retrain", enqueue=False, params={
        "tasks": list(tasks), "backend": "linear", "promote": "always",
        "hyperparams": hyperparams or QUICK_HYPERPARAMS,
    })
    return training.retrain_run(job_id=job.pk)


QUICK_HYPERPARAMS = {
    "intent": {"C": 10.0},
    "sentiment": {"C": 10.0},
    "quality": {},
}
