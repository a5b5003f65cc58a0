"""Real-time prediction API: ``POST /api/v1/predict`` and ``POST /api/v1/predict/batch``.

The hot path is lean: the production models are cached in the process (one cheap
check every few seconds), nothing touches the database unless the caller asks to
persist the prediction for a conversation. Input goes through DRF serializers. Storing a
prediction as a conversation's current one (``conversation_external_id``) changes what the
nightly assessment reads, so it needs the ``write`` scope besides ``predict``.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.fields import IdentifierField
from apps.core.permissions import request_has_scope
from apps.core.serializers import InputSerializer
from apps.registry.loader import production_models

from . import services
from .services.suggestions import suggest

logger = logging.getLogger(__name__)

MAX_BATCH = 100
MAX_SUGGESTIONS = 5


def _suggest(*, intent, sentiment, quality, text, language):
    try:
        out = suggest(intent=intent, sentiment=sentiment, quality=quality, text=text, language=language, k_replies=3)
    except Exception:  # suggestions are a bonus; a failure there must not fail the prediction
        logger.exception("suggestions failed")
        return {"suggestions": [], "replies": []}
    return {"suggestions": list(out.get("suggestions") or [])[:MAX_SUGGESTIONS], "replies": list(out.get("replies") or [])}


class PredictInputSerializer(InputSerializer):
    text = serializers.CharField(max_length=20000, allow_blank=False, trim_whitespace=True)
    session_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    conversation_external_id = IdentifierField(
        required=False, allow_blank=True,
        help_text="Also store this prediction as the conversation's current one (needs the 'write' scope).")
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    quality = serializers.BooleanField(
        required=False, default=True,
        help_text="false skips the quality model (quality_score null): faster when only intent/sentiment matter.")


class BatchInputSerializer(InputSerializer):
    texts = serializers.ListField(
        child=serializers.CharField(max_length=20000, allow_blank=True, trim_whitespace=True),
        allow_empty=False, max_length=MAX_BATCH,
        error_messages={"max_length": f"At most {MAX_BATCH} texts per batch request; split larger batches "
                                      "or submit a scoring job (POST /api/v1/jobs/score)."},
    )
    session_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    quality = serializers.BooleanField(required=False, default=True, help_text="false skips the quality model.")


_input = threading.local()


def _predict_input(data) -> dict:
    """``data`` validated by this thread's ``PredictInputSerializer`` (raises ``ValidationError``).

    The serializer instance is kept per thread and only its validation runs per request: a new
    instance deep-copies every declared field, which costs more than validating one text
    (``bench/load.sh``, docs/benchmarks.md "Real-time predict"). The errors are the ones
    ``is_valid`` reports.
    """
    serializer = getattr(_input, "serializer", None)
    if serializer is None:
        serializer = _input.serializer = PredictInputSerializer()
    return serializer.run_validation(data)


class LabelConfidenceSerializer(serializers.Serializer):
    label = serializers.CharField()
    confidence = serializers.FloatField()


class ModelVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    backend = serializers.CharField()


class PredictionOutputSerializer(serializers.Serializer):
    intent = serializers.CharField(allow_null=True, help_text="'uncertain' is never substituted: see `uncertain`.")
    intent_confidence = serializers.FloatField(allow_null=True)
    intent_top = LabelConfidenceSerializer(many=True)
    sentiment = serializers.CharField(allow_null=True)
    sentiment_confidence = serializers.FloatField(allow_null=True)
    sentiment_scores = serializers.DictField(child=serializers.FloatField())
    quality_score = serializers.FloatField(allow_null=True)
    uncertain = serializers.BooleanField(help_text="Top confidence below the threshold or top-2 gap too small.")
    suggestions = serializers.ListField(child=serializers.CharField(), max_length=MAX_SUGGESTIONS)
    replies = serializers.ListField(child=serializers.DictField())
    response_time = serializers.FloatField(help_text="Seconds spent answering.")
    session_id = serializers.CharField()
    model_versions = serializers.DictField(child=ModelVersionRefSerializer())
    prediction_id = serializers.IntegerField(required=False, allow_null=True)


class BatchOutputSerializer(serializers.Serializer):
    results = PredictionOutputSerializer(many=True)
    count = serializers.IntegerField()
    response_time = serializers.FloatField()
    session_id = serializers.CharField()
    model_versions = serializers.DictField(child=ModelVersionRefSerializer())


def _answer(result: dict, *, text: str, language: str | None, session_id: str, started: float) -> dict:
    extra = _suggest(intent=result["intent"], sentiment=result["sentiment"], quality=result["quality_score"],
                     text=text, language=language)
    return {
        "intent": result["intent"],
        "intent_confidence": result["intent_confidence"],
        "intent_top": result["intent_top"],
        "sentiment": result["sentiment"],
        "sentiment_confidence": result["sentiment_confidence"],
        "sentiment_scores": result["sentiment_scores"],
        "quality_score": result["quality_score"],
        "uncertain": result["uncertain"],
        "suggestions": extra["suggestions"],
        "replies": extra["replies"],
        "response_time": round(time.perf_counter() - started, 6),
        "session_id": session_id,
        "model_versions": result["model_versions"],
    }


_latency_children: dict = {}


def _observe(models, started: float, path: str, results: list[dict]) -> None:
    try:
        key = (models.version_key, path)
        child = _latency_children.get(key)
        if child is None:
            from apps.core.metrics import PREDICTION_LATENCY

            child = _latency_children[key] = PREDICTION_LATENCY.labels(model_versions=key[0], path=path)
        child.observe(time.perf_counter() - started)
    except Exception:
        pass
    services.predictions_count(results, path=path)


class _Pending:
    __slots__ = ("text", "language", "with_quality", "models", "result", "error", "done", "lead")

    def __init__(self, text, language, with_quality, models):
        self.text, self.language, self.with_quality, self.models = text, language, with_quality, models
        self.result = self.error = None
        self.done = threading.Event()
        self.lead = False


class MicroBatcher:
    """Predict the texts of concurrent requests of one process together (one model call).

    A model call has a fixed cost per call (tree traversal, array set-up) besides its cost per
    text, so texts predicted together are cheaper each. Under a threaded server (gunicorn
    ``gthread``) a request thread queues its text; whichever thread finds no batch running
    leads: it takes everything queued, predicts it, hands each thread its answer, and passes
    the lead to a waiting thread if more texts queued meanwhile. Nothing ever waits for a
    batch to fill: a lone request is predicted at once, so batching costs no latency and
    only happens when requests overlap. Sync workers see batches of one (same as before).
    """

    def __init__(self, max_batch: int = 64, predict=None):
        self.max_batch = max_batch
        self._predict = predict  # ``services.predict_texts`` unless given
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._running = False

    def predict(self, *, text: str, language: str | None, with_quality: bool, models) -> dict:
        item = _Pending(text, language, with_quality, models)
        with self._lock:
            self._pending.append(item)
            lead = not self._running
            if lead:
                self._running = True
        if not lead:
            item.done.wait()
            if item.lead:  # the previous leader passed the lead on: run the next batch
                self._run()
                item.done.wait()
        else:
            self._run()
        if item.error is not None:
            raise item.error
        return item.result

    def _run(self) -> None:
        with self._lock:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        try:
            groups: dict[tuple, list[_Pending]] = {}
            for it in batch:
                groups.setdefault((it.language, it.with_quality, id(it.models)), []).append(it)
            for items in groups.values():
                first = items[0]
                try:
                    predict = self._predict or services.predict_texts
                    results = predict(texts=[it.text for it in items], language=first.language,
                                      models=first.models, with_quality=first.with_quality)
                except BaseException as exc:  # every request of the group gets the error
                    for it in items:
                        it.error = exc
                else:
                    for it, result in zip(items, results):
                        it.result = result
        finally:
            for it in batch:
                if it.result is None and it.error is None:
                    it.error = RuntimeError("the prediction batch failed")
            successor = None
            with self._lock:
                if self._pending:  # queued while this batch ran: the first of them leads next
                    successor = self._pending[0]
                    successor.lead = True
                else:
                    self._running = False
            for it in batch:
                it.done.set()
            if successor is not None:
                successor.done.set()


_batcher = MicroBatcher()


class PredictApi(APIView):
    required_scope = "predict"
    throttle_scope = "predict"

    @extend_schema(request=PredictInputSerializer, responses={200: PredictionOutputSerializer},
                   summary="Predict intent, sentiment and quality of one text")
    def post(self, request):
        started = time.perf_counter()
        body = _predict_input(request.data)
        if body.get("conversation_external_id") and not request_has_scope(request, "write"):
            raise PermissionDenied(_("Storing a prediction for a conversation (conversation_external_id) needs "
                                     "the 'write' scope as well as 'predict'."))
        models = production_models()
        language = body.get("language") or None
        result = _batcher.predict(text=body["text"], language=language, with_quality=body["quality"], models=models)
        answer = _answer(result, text=body["text"], language=language,
                         session_id=body.get("session_id") or uuid.uuid4().hex, started=started)
        if body.get("conversation_external_id"):
            prediction = services.prediction_for_conversation(
                external_id=body["conversation_external_id"], result=result, models=models)
            answer["prediction_id"] = prediction.pk if prediction else None
            answer["response_time"] = round(time.perf_counter() - started, 6)
        _observe(models, started, "api", [result])
        return Response(answer, status=status.HTTP_200_OK)


class PredictBatchApi(APIView):
    required_scope = "predict"
    throttle_scope = "predict"

    @extend_schema(request=BatchInputSerializer, responses={200: BatchOutputSerializer},
                   summary=f"Predict up to {MAX_BATCH} texts in one call")
    def post(self, request):
        started = time.perf_counter()
        data = BatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        models = production_models()
        language = body.get("language") or None
        session_id = body.get("session_id") or uuid.uuid4().hex
        results = services.predict_texts(texts=body["texts"], language=language, models=models,
                                         with_quality=body["quality"])
        answers = [_answer(r, text=t, language=language, session_id=session_id, started=started)
                   for r, t in zip(results, body["texts"])]
        _observe(models, started, "api_batch", results)
        return Response({
            "results": answers, "count": len(answers), "response_time": round(time.perf_counter() - started, 6),
            "session_id": session_id, "model_versions": models.versions,
        })
