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
