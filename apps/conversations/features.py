"""The features a conversation gives the quality model and the trainers (no Django needed)."""


def conversation_features(row: dict) -> dict:
    """Features for the quality model from a conversation row (``values()`` dict).

    Who handled the conversation or who the customer is never becomes a feature.
    """
    features = dict(row.get("features") or {})
    features.setdefault("channel", row.get("channel") or "unknown")
    resolved = row.get("resolved")
    features.setdefault("resolved", -1 if resolved is None else int(bool(resolved)))
    if row.get("n_messages") is not None:
        features.setdefault("n_turns", row.get("n_messages"))
    return features
