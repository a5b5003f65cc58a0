"""Scoring services, one module per responsibility.

- ``predict``: the prediction path (texts -> answers) and the upsert of ``Prediction`` rows;
- ``batch``: scoring jobs (submit, plan into chunks, score a chunk);
- ``assessment``: the nightly quality assessment (flag, aggregate, chain after scoring, retrain when due);
- ``review``: the review queue (pick, submit, skip) and the agreement statistics;
- ``suggestions`` and ``retrieval``: reply suggestions (rules, the index of best past replies).

The prediction path's public names are importable from the package itself.
"""
from .predict import (  # noqa: F401
    PREDICT_BATCH, TOP_K, conversations_predict, prediction_for_conversation, predict_texts, predictions_count,
    predictions_upsert,
)
