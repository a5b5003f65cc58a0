"""Conversation features for the quality model and the text of the customer's turns."""

import math

NUMERIC_FEATURES = (
    "n_turns",
    "n_customer",
    "n_agent",
    "customer_chars",
    "agent_chars",
    "first_response_s",
    "mean_response_s",
    "duration_s",
    "question_marks",
    "exclamation_marks",
    "digits",
    "resolved",
)
CATEGORICAL_FEATURES = ("channel",)


def _speaker(message):
    return str(message.get("speaker") or "").lower()


def customer_text(messages):
    """Join the customer's turns into one text (the classification input).

    Parameters
    ----------
    messages : list of dict
        ``{"speaker": "customer"|"agent"|"system", "text": str, "sent_at": datetime|None}``.

    Returns
    -------
    str
    """
    return "\n".join(str(m.get("text") or "") for m in messages if _speaker(m) == "customer")


def conversation_features(messages, channel=None, resolved=None):
    """Numeric features of one conversation.

    Parameters
    ----------
    messages : list of dict
        ``{"speaker": "customer"|"agent"|"system", "text": str, "sent_at": datetime|None}``
        in conversation order.
    channel : str, optional
        e.g. ``"chat"``, ``"email"``, ``"phone"``; ``"unknown"`` when None.
    resolved : bool, optional
        1 resolved, 0 not resolved, -1 unknown.

    Returns
    -------
    dict
        ``n_turns, n_customer, n_agent, customer_chars, agent_chars, first_response_s,
        mean_response_s, duration_s, question_marks, exclamation_marks, digits, resolved``
        (numbers; times are NaN when timestamps are missing) and ``channel`` (str).
    """
    customer = [m for m in messages if _speaker(m) == "customer"]
    agent = [m for m in messages if _speaker(m) == "agent"]
    texts = [str(m.get("text") or "") for m in messages]
    customer_texts = [str(m.get("text") or "") for m in customer]

    times = [m.get("sent_at") for m in messages]
    known = [t for t in times if t is not None]
    duration = (max(known) - min(known)).total_seconds() if len(known) >= 2 else math.nan

    # response time: from the first customer message of a customer run to the next agent reply
    responses = []
    waiting_since = None
    for message in messages:
        speaker, sent_at = _speaker(message), message.get("sent_at")
        if speaker == "customer":
            if waiting_since is None:
                waiting_since = sent_at
        elif speaker == "agent":
            if waiting_since is not None and sent_at is not None:
                responses.append(max(0.0, (sent_at - waiting_since).total_seconds()))
            waiting_since = None

    return {
        "n_turns": len(messages),
        "n_customer": len(customer),
        "n_agent": len(agent),
        "customer_chars": sum(len(t) for t in customer_texts),
        "agent_chars": sum(len(str(m.get("text") or "")) for m in agent),
        "first_response_s": responses[0] if responses else math.nan,
        "mean_response_s": sum(responses) / len(responses) if responses else math.nan,
        "duration_s": duration,
        "question_marks": sum(t.count("?") + t.count("？") for t in customer_texts),
        "exclamation_marks": sum(t.count("!") + t.count("！") for t in customer_texts),
        "digits": sum(ch.isdigit() for t in texts for ch in t),
        "resolved": -1 if resolved is None else int(bool(resolved)),
        "channel": str(channel) if channel else "unknown",
    }


def features_frame(features, n=None):
    """Turn features (list of dicts or a DataFrame) into a DataFrame.

    Parameters
    ----------
    features : list of dict, pandas.DataFrame or None
    n : int, optional
        Expected number of rows.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    if features is None:
        frame = pd.DataFrame(index=range(n or 0))
    elif isinstance(features, pd.DataFrame):
        frame = features.reset_index(drop=True)
    else:
        frame = pd.DataFrame(list(features))
    if n is not None and len(frame) != n:
        raise ValueError(f"features has {len(frame)} rows, texts has {n}")
    return frame
