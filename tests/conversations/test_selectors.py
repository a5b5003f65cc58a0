"""apps/conversations/selectors.py: the reads other apps share."""
import datetime as dt

import pytest
from django.utils import timezone

from apps.conversations.selectors import job_conversations
from tests.factories import AgentFactory, ConversationFactory

pytestmark = pytest.mark.django_db

DAY = timezone.make_aware(dt.datetime(2026, 3, 1))


@pytest.fixture
def conversations():
    ann, bob = AgentFactory(external_id="ANN"), AgentFactory(external_id="BOB")
    return [ConversationFactory(external_id=f"C{i}", agent=ann if i % 2 else bob,
                                started_at=DAY + dt.timedelta(days=i)) for i in range(6)]


def _ids(qs) -> list[str]:
    return sorted(qs.values_list("external_id", flat=True))


def test_job_conversations_filter_by_each_parameter(conversations):
    assert _ids(job_conversations({"all": True})) == [f"C{i}" for i in range(6)]
    assert _ids(job_conversations({"conversations": ["C1", "C4", "nope"]})) == ["C1", "C4"]
    assert _ids(job_conversations({"conversation_ids": [conversations[2].pk]})) == ["C2"]
    assert _ids(job_conversations({"agent": "ANN"})) == ["C1", "C3", "C5"]
    since, until = (DAY + dt.timedelta(days=2)).isoformat(), (DAY + dt.timedelta(days=4)).isoformat()
    assert _ids(job_conversations({"since": since})) == ["C2", "C3", "C4", "C5"]
    assert _ids(job_conversations({"until": until})) == ["C0", "C1", "C2", "C3"]  # until is exclusive


def test_job_conversations_combine_parameters(conversations):
    since = (DAY + dt.timedelta(days=2)).isoformat()
    assert _ids(job_conversations({"agent": "BOB", "since": since, "conversations": ["C0", "C2", "C3"]})) == ["C2"]

