"""A small, hand-checked data set for the console's tests (see the expected numbers in the tests)."""
import datetime as dt

from django.utils import timezone

from apps.scoring.models import ReviewItem
from tests.factories import AgentFactory, ConversationFactory

DAY1 = dt.date(2026, 3, 2)  # a Monday
DAY2 = dt.date(2026, 3, 3)  # a Tuesday


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def make_known_data() -> dict:
    a1 = AgentFactory(name="Alice", team="t1")
    a2 = AgentFactory(name="Bob", team="t1")
    a3 = AgentFactory(name="Carol", team="t2")
    c1 = ConversationFactory(agent=a1, channel="web", started_at=at(DAY1, 10, 30), predicted_intent="余额查询",
                             predicted_sentiment="negative", predicted_quality=2.0, resolved=False, csat=2)
    c2 = ConversationFactory(agent=a1, channel="app", started_at=at(DAY1, 11), predicted_intent="余额查询",
                             predicted_sentiment="positive", predicted_quality=4.6, resolved=True, csat=5)
    c3 = ConversationFactory(agent=a2, channel="app", started_at=at(DAY2, 15), predicted_intent="转账汇款",
                             predicted_sentiment="neutral", predicted_quality=3.4, resolved=True, csat=4)
    c4 = ConversationFactory(agent=a3, channel="phone", started_at=at(DAY2, 15, 20), predicted_intent="转账汇款",
                             predicted_sentiment="negative", predicted_quality=1.2, resolved=True, csat=None,
                             uncertain=True)
    c5 = ConversationFactory(agent=a3, channel="web", started_at=at(DAY2, 16), predicted_intent="",
                             predicted_sentiment="", predicted_quality=None, resolved=None, csat=None)
    old = ConversationFactory(agent=a1, channel="web", started_at=at(DAY1 - dt.timedelta(days=40), 9),
                              predicted_intent="余额查询", predicted_sentiment="positive", predicted_quality=5.0)
    # A manager corrected c4: the reviewed labels must win everywhere.
    r4 = ReviewItem.objects.create(conversation=c4, reasons=["negative_sentiment"], status="reviewed",
                                   intent="投诉建议", sentiment="negative", quality=2.0,
                                   reviewed_at=timezone.now())
    # c1 is flagged and still pending: no verdict yet, model output stands.
    r1 = ReviewItem.objects.create(conversation=c1, reasons=["negative_sentiment", "low_quality"])
    return {"agents": (a1, a2, a3), "conversations": (c1, c2, c3, c4, c5), "old": old, "reviews": (r1, r4)}
