import pytest

from apps.scoring.models import Prediction

pytestmark = pytest.mark.django_db

FIELDS = {"intent", "intent_confidence", "intent_top", "sentiment", "sentiment_confidence", "sentiment_scores",
          "quality_score", "uncertain", "suggestions", "replies", "response_time", "session_id", "model_versions"}


def test_predict_answers_the_original_shape(api_client, production):
    response = api_client.post("/api/v1/predict", {"text": "what is my account balance", "session_id": "s1"},
                               format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert FIELDS <= set(body)
    assert body["intent"] == "balance_inquiry" and body["session_id"] == "s1"
    assert len(body["intent_top"]) == 3 and {"label", "confidence"} == set(body["intent_top"][0])
    assert isinstance(body["suggestions"], list) and len(body["suggestions"]) <= 5
    assert body["response_time"] >= 0
    assert body["model_versions"]["intent"]["version"] == 1
    assert not Prediction.objects.exists()  # nothing persisted unless asked


def test_predict_persists_for_a_named_conversation(api_client, production, labelled):
    from apps.conversations.models import Conversation

    conv = Conversation.objects.get(pk=labelled[0])
    response = api_client.post("/api/v1/predict", {"text": conv.customer_text,
                                                   "conversation_external_id": conv.external_id}, format="json")
    assert response.status_code == 200
    prediction = Prediction.objects.get()
    assert prediction.conversation_id == conv.pk and response.json()["prediction_id"] == prediction.pk
    conv.refresh_from_db()
    assert conv.prediction_id == prediction.pk


def test_batch_predicts_up_to_100(api_client, production):
    response = api_client.post("/api/v1/predict/batch", {"texts": ["reset the login password"] * 100}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 100 and body["results"][0]["intent"] == "password_reset"


def test_batch_of_101_is_refused_with_a_clear_message(api_client, production):
    response = api_client.post("/api/v1/predict/batch", {"texts": ["x"] * 101}, format="json")
    assert response.status_code == 400
    assert "At most 100 texts" in str(response.json())


def test_predict_requires_a_key(anon_api_client, production):
    response = anon_api_client.post("/api/v1/predict", {"text": "hello"}, format="json")
    assert response.status_code in (401, 403)


def test_predict_requires_the_predict_scope(production):
    from rest_framework.test import APIClient

    from apps.core.services import api_key_create

    _, key = api_key_create(name="reader", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.post("/api/v1/predict", {"text": "hello"}, format="json").status_code == 403


def test_no_production_model_is_503(api_client, model_store):
    response = api_client.post("/api/v1/predict", {"text": "hello"}, format="json")
    assert response.status_code == 503
    assert "No model is in production" in response.json()["message"]


def test_empty_text_is_400(api_client, production):
    assert api_client.post("/api/v1/predict", {"text": ""}, format="json").status_code == 400


def test_schema_documents_predict(admin_user_client):
    response = admin_user_client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/predict/batch" in text and "intent_top" in text and "/api/v1/jobs/score" in text


def test_quality_can_be_skipped(api_client, production):
    body = api_client.post("/api/v1/predict", {"text": "reset the login password", "quality": False},
                           format="json").json()
    assert body["quality_score"] is None and body["intent"] == "password_reset"
    batch = api_client.post("/api/v1/predict/batch", {"texts": ["hi"], "quality": False}, format="json").json()
    assert batch["results"][0]["quality_score"] is None


# --- the predict path: input validation, scopes and micro-batching -------------

@pytest.mark.parametrize("body, status", [
    ({"text": "  reset the login password  ", "session_id": " s2 "}, 200),
    ({"text": "reset the login password", "quality": "false"}, 400),  # JSON types are not coerced
    ({"text": "   "}, 400),
    ({"text": "bad\x00text"}, 400),
    ({"text": "hello", "session_id": None}, 400),
    ({"text": "x" * 20001}, 400),
    ({"text": 12345}, 400),  # a number is not text: the schema says string
    ({"text": "hello", "language": "x" * 9}, 400),
])
def test_predict_input_is_validated_as_the_schema_says(api_client, production, body, status):
    response = api_client.post("/api/v1/predict", body, format="json")
    assert response.status_code == status, response.content
    if status != 200:
        assert response.json()["extra"]["fields"]


@pytest.mark.parametrize("data", [
    {"text": "reset the login password", "quality": "false", "session_id": None},
    {"text": 12345, "language": "x" * 9},
    {"text": "   "},
    {},
    ["not", "an", "object"],
])
def test_the_reused_predict_serializer_reports_what_a_new_one_reports(data):
    import threading

    from rest_framework.exceptions import ValidationError

    from apps.scoring.api import PredictInputSerializer, _predict_input

    fresh = PredictInputSerializer(data=data)
    assert not fresh.is_valid()
    for _ in range(2):  # the second call reuses this thread's instance
        with pytest.raises(ValidationError) as refused:
            _predict_input(data)
        assert refused.value.detail == fresh.errors
    assert _predict_input({"text": " ok "}) == {"text": "ok", "quality": True}
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_predict_input({"text": "hi"})))
    thread.start()
    thread.join()
    assert seen == [{"text": "hi", "quality": True}]


def _key_client(*scopes):
    from rest_framework.test import APIClient

    from apps.core.services import api_key_create

    _, key = api_key_create(name="-".join(scopes), scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_storing_a_prediction_for_a_conversation_needs_the_write_scope(production, labelled):
    from apps.conversations.models import Conversation

    conv = Conversation.objects.get(pk=labelled[0])
    body = {"text": conv.customer_text, "conversation_external_id": conv.external_id}
    refused = _key_client("predict").post("/api/v1/predict", body, format="json")
    assert refused.status_code == 403
    assert "write" in refused.json()["message"]
    assert not Prediction.objects.exists()
    assert _key_client("predict").post("/api/v1/predict", {"text": conv.customer_text},
                                       format="json").status_code == 200
    stored = _key_client("predict", "write").post("/api/v1/predict", body, format="json")
    assert stored.status_code == 200 and Prediction.objects.get().pk == stored.json()["prediction_id"]


def test_predict_quality_false_skips_the_quality_model(api_client, production):
    body = api_client.post("/api/v1/predict", {"text": "reset the login password", "quality": False},
                           format="json").json()
    assert body["quality_score"] is None and body["intent"] == "password_reset"


def test_concurrent_predictions_are_batched_and_each_gets_its_own_answer(production):
    import threading
    import time

    from apps.registry.loader import production_models
    from apps.scoring import api, services

    models = production_models()
    texts = ["reset the login password", "what is my account balance"] * 12
    expected = [services.predict_texts(texts=[t], models=models)[0] for t in texts]
    batch_sizes = []
    real = services.predict_texts
    gate = threading.Event()

    def slow_first(**kwargs):
        batch_sizes.append(len(kwargs["texts"]))
        gate.wait(5)  # hold the first batch until every thread has queued its text
        return real(**kwargs)

    batcher = api.MicroBatcher(max_batch=64, predict=slow_first)
    answers = [None] * len(texts)

    def one(i):
        answers[i] = batcher.predict(text=texts[i], language=None, with_quality=True, models=models)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    def until(condition):
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, "threads did not queue"
            time.sleep(0.001)

    threads[0].start()
    until(lambda: batch_sizes)
    for t in threads[1:]:
        t.start()
    until(lambda: len(batcher._pending) == len(texts) - 1)
    gate.set()
    for t in threads:
        t.join(10)
    assert batch_sizes == [1, len(texts) - 1]  # the queued texts went in one model call
    for got, want in zip(answers, expected):
        assert got["intent"] == want["intent"] and got["intent_top"] == want["intent_top"]
        assert got["quality_score"] == pytest.approx(want["quality_score"], abs=1e-3)


def test_a_failing_batch_fails_each_of_its_requests_and_the_next_batch_runs(production):
    from apps.registry.loader import production_models
    from apps.scoring import api, services

    models = production_models()
    calls = []

    def fail_once(**kwargs):
        calls.append(len(kwargs["texts"]))
        if len(calls) == 1:
            raise ValueError("boom")
        return services.predict_texts(**kwargs)

    batcher = api.MicroBatcher(predict=fail_once)
    with pytest.raises(ValueError, match="boom"):
        batcher.predict(text="hello", language=None, with_quality=False, models=models)
    assert batcher.predict(text="reset the login password", language=None, with_quality=False,
                           models=models)["intent"] == "password_reset"


def test_a_warm_predict_with_a_cached_key_runs_no_sql(api_client, production, settings, django_assert_num_queries):
    settings.REGISTRY_CHECK_SECONDS = 60  # the periodic registry check is not per request
    settings.API_KEY_CACHE_SECONDS = 30
    assert api_client.post("/api/v1/predict", {"text": "what is my account balance"}, format="json").status_code == 200
    with django_assert_num_queries(0):
        response = api_client.post("/api/v1/predict", {"text": "reset the login password"}, format="json")
    assert response.status_code == 200 and response.json()["intent"] == "password_reset"
