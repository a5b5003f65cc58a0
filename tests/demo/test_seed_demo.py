"""``manage.py seed_demo``: the demo contact centre written through the ingest services."""
import datetime as dt
import io
import re

import pytest
from django.core.management import CommandError, call_command

from apps.core.labels import INTENTS_EN
from apps.demo import generator as demo


def generate(**kwargs):
    return demo.generate_demo(**kwargs)


SMALL = ["--conversations", "120", "--customers", "40", "--agents", "8", "--anchor-date", "2025-06-02", "--batch", "50"]


def run_seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts():
    from apps.agents.models import Agent
    from apps.conversations.models import Conversation, Message
    from apps.customers.models import Customer

    return Customer.objects.count(), Agent.objects.count(), Conversation.objects.count(), Message.objects.count()


@pytest.mark.django_db
def test_seed_demo_writes_rows_and_is_idempotent():
    from apps.conversations.models import Conversation, Message

    first = run_seed(*SMALL)
    assert "customers 40 created" in first and "agents 8 created" in first and "conversations 120 created" in first
    after_first = counts()
    assert after_first[:3] == (40, 8, 120) and after_first[3] >= 240
    stored = dict(Conversation.objects.values_list("external_id", "label_intent"))

    second = run_seed(*SMALL)
    assert "0 created" in second and "conversations 0 created / 0 updated / 120 unchanged" in second
    assert counts() == after_first
    assert dict(Conversation.objects.values_list("external_id", "label_intent")) == stored

    from django.utils import timezone

    anchor = demo.anchor_datetime(dt.date(2025, 6, 2), timezone.get_default_timezone())
    expected = generate(n_conversations=120, n_customers=40, n_agents=8, anchor=anchor)
    conv = Conversation.objects.get(external_id=expected.conversations[0]["external_id"])
    assert conv.started_at == expected.conversations[0]["started_at"]
    assert conv.n_messages == len(expected.conversations[0]["messages"])
    assert conv.customer_text
    # PII in customer turns is masked on ingest, never stored raw.
    texts = list(Message.objects.values_list("text", flat=True))
    assert not any(re.search(r"(?<!\d)1[35789]\d{9}(?!\d)|@example\.", t) for t in texts)


@pytest.mark.django_db
def test_seed_demo_english_and_other_seed_update_in_place():
    from apps.conversations.models import Conversation

    out = run_seed(*SMALL, "--language", "en")
    assert "conversations 120 created" in out
    assert set(Conversation.objects.values_list("language", flat=True)) == {"en"}
    assert set(Conversation.objects.values_list("label_intent", flat=True)) <= set(INTENTS_EN)
    # Another seed reuses the same external ids: the demo is replaced, not duplicated.
    out = run_seed(*SMALL, "--language", "en", "--seed", "5")
    assert "conversations 0 created" in out and Conversation.objects.count() == 120


@pytest.mark.django_db
def test_seed_demo_rejects_bad_options():
    with pytest.raises(CommandError):
        run_seed("--language", "fr")
    with pytest.raises(CommandError):
        run_seed("--days", "0")
    with pytest.raises(CommandError):
        run_seed("--anchor-date", "2025-02-30")
    assert counts() == (0, 0, 0, 0)
