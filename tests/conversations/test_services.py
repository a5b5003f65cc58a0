"""The ingest service behind the bulk API, the import command and the demo seeder."""
import datetime as dt

import pytest
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversations_upsert
from apps.customers.models import Customer

pytestmark = pytest.mark.django_db

STARTED = timezone.make_aware(dt.datetime(2026, 3, 1, 10, 0))


def _item(external_id="C-1", text="my card was charged twice, call me on 13812345678", **extra):
    return {
        "external_id": external_id, "customer": "CU-1", "agent": "AG-1", "channel": "app", "language": "en",
        "started_at": STARTED, "resolved": True,
        "messages": [
            {"seq": 0, "speaker": "customer", "text": text},
            {"seq": 1, "speaker": "agent", "text": "I am sorry, let me check."},
        ],
        **extra,
    }


def test_creates_conversations_with_their_parties_and_masks_pii_before_storing():
    result = conversations_upsert(items=[_item()])
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    conv = Conversation.objects.get(external_id="C-1")
    assert conv.customer.external_id == "CU-1" and conv.agent.external_id == "AG-1"
    assert "13812345678" not in conv.customer_text and "charged twice" in conv.customer_text
    stored = list(Message.objects.filter(conversation=conv).order_by("seq").values_list("speaker", "text"))
    assert [s for s, _ in stored] == ["customer", "agent"]
    assert all("13812345678" not in t for _, t in stored)
    assert conv.n_messages == 2 and conv.content_hash and result.ids == {"C-1": conv.pk}


def test_sending_the_same_batch_twice_changes_nothing():
    conversations_upsert(items=[_item("C-1"), _item("C-2", text="where is my refund")])
    before = {c.external_id: (c.updated_at, c.content_hash) for c in Conversation.objects.all()}
    messages = set(Message.objects.values_list("pk", flat=True))
    result = conversations_upsert(items=[_item("C-1"), _item("C-2", text="where is my refund")])
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert {c.external_id: (c.updated_at, c.content_hash) for c in Conversation.objects.all()} == before
    assert set(Message.objects.values_list("pk", flat=True)) == messages
    assert Customer.objects.count() == 1 and Agent.objects.count() == 1


def test_changed_content_replaces_the_messages_and_clears_the_model_output():
    conversations_upsert(items=[_item()])
    Conversation.objects.filter(external_id="C-1").update(predicted_intent="refund", uncertain=True)
    result = conversations_upsert(items=[_item(text="please close my account")])
    assert (result.created, result.updated) == (0, 1)
    conv = Conversation.objects.get(external_id="C-1")
    assert "close my account" in conv.customer_text
    assert (conv.predicted_intent, conv.uncertain, conv.prediction_id) == ("", False, None)
    assert Message.objects.filter(conversation=conv).count() == 2


def test_the_last_duplicate_in_a_batch_wins():
    result = conversations_upsert(items=[_item(text="first version"), _item(text="second version")])
    assert result.created == 1
    assert "second version" in Conversation.objects.get(external_id="C-1").customer_text


def test_a_batch_is_written_whole_or_not_at_all():
    bad = _item("C-2", started_at=None)  # the database refuses the row, after the parties were created
    with pytest.raises(Exception):  # PostgreSQL's COPY names the column; SQLite's IntegrityError does not
        conversations_upsert(items=[_item("C-1"), bad])
    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert not Customer.objects.exists() and not Agent.objects.exists()
