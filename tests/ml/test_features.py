"""Conversation features and the customer text."""

import datetime
import math

from ml.features import NUMERIC_FEATURES, conversation_features, customer_text

T0 = datetime.datetime(2024, 5, 1, 9, 0, tzinfo=datetime.timezone.utc)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


MESSAGES = [
    {"speaker": "customer", "text": "Hi! Where is card 1234?", "sent_at": at(0)},
    {"speaker": "customer", "text": "Hello??", "sent_at": at(30)},
    {"speaker": "agent", "text": "Checking now", "sent_at": at(120)},
    {"speaker": "system", "text": "agent joined", "sent_at": at(125)},
    {"speaker": "customer", "text": "thanks", "sent_at": at(200)},
    {"speaker": "agent", "text": "It ships in 2 days", "sent_at": at(260)},
]


def test_conversation_features():
    f = conversation_features(MESSAGES, channel="chat", resolved=True)
    assert set(NUMERIC_FEATURES) | {"channel"} == set(f)
    assert (f["n_turns"], f["n_customer"], f["n_agent"]) == (6, 3, 2)
    assert f["customer_chars"] == len("Hi! Where is card 1234?") + len("Hello??") + len("thanks")
    assert f["agent_chars"] == len("Checking now") + len("It ships in 2 days")
    assert f["first_response_s"] == 120.0  # from the first unanswered customer message
    assert f["mean_response_s"] == (120.0 + 60.0) / 2
    assert f["duration_s"] == 260.0
    assert (f["question_marks"], f["exclamation_marks"], f["digits"]) == (3, 1, 5)
    assert (f["resolved"], f["channel"]) == (1, "chat")


def test_missing_timestamps_and_unknowns():
    messages = [{"speaker": "customer", "text": "订单呢？！", "sent_at": None},
                {"speaker": "agent", "text": "稍等", "sent_at": None}]
    f = conversation_features(messages)
    assert math.isnan(f["first_response_s"]) and math.isnan(f["duration_s"])
    assert (f["resolved"], f["channel"]) == (-1, "unknown")
    assert (f["question_marks"], f["exclamation_marks"]) == (1, 1)
    assert conversation_features(messages, resolved=False)["resolved"] == 0
    assert conversation_features([])["n_turns"] == 0


def test_customer_text_joins_customer_turns_only():
    assert customer_text(MESSAGES) == "Hi! Where is card 1234?\nHello??\nthanks"
