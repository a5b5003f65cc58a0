import pytest

from apps.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_submit_score_job_is_idempotent_by_header(api_client, production, labelled):
    body = {"since": "2020-01-01T00:00:00Z"}
    first = api_client.post("/api/v1/jobs/score", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post("/api/v1/jobs/score", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Job.objects.count() == 1
    assert first.json()["params"]["since"].startswith("2020-01-01")


def test_submit_by_field_and_conversation_list(api_client, production):
    body = {"conversations": ["T000-000001", "T000-000002"], "idempotency_key": "k-2"}
    first = api_client.post("/api/v1/jobs/score", body, format="json")
    again = api_client.post("/api/v1/jobs/score", body, format="json")
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["params"] == {"conversations": ["T000-000001", "T000-000002"]}


def test_submit_without_target_is_422(api_client, production):
    # Valid by the schema (every field is optional), refused by a rule across the fields.
    response = api_client.post("/api/v1/jobs/score", {}, format="json")
    assert response.status_code == 422
    assert "Say what to score" in response.json()["extra"]["fields"]["non_field_errors"][0]


def test_submit_with_since_after_until_is_422(api_client, production):
    response = api_client.post("/api/v1/jobs/score", {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
                               format="json")
    assert response.status_code == 422 and "until" in response.json()["extra"]["fields"]


@pytest.mark.parametrize("body", [{"all": 1}, {"all": "true"}, {"chunk_size": "5", "all": True},
                                  {"since": "0001-01-01T00:00:00Z"}, {"since": "2026-01-01"}])
def test_submit_refuses_wrong_types_and_far_dates(api_client, production, body):
    response = api_client.post("/api/v1/jobs/score", body, format="json")
    assert response.status_code == 400 and set(response.json()["extra"]["fields"]) <= set(body)


def test_submit_without_models_is_503(api_client, model_store):
    assert api_client.post("/api/v1/jobs/score", {"all": True}, format="json").status_code == 503


def test_job_detail_list_and_cancel(api_client, production, labelled):
    from apps.scoring.services import batch as scoring_jobs

    job, _ = scoring_jobs.score_job_submit(params={"all": True, "chunk_size": 50})
    scoring_jobs.score_job_plan(job_id=job.pk)
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=list(labelled[:50]), chunk_index=0)
    detail = api_client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (detail["status"], detail["total"], detail["done"], detail["progress"]) == ("running", 120, 50, 41.7)
    assert detail["duration"] is not None and detail["steps"][0]["step"] == "planned"
    listing = api_client.get("/api/v1/jobs/").json()
    assert listing["results"][0]["id"] == job.pk and "next" in listing
    cancelled = api_client.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api_client.post(f"/api/v1/jobs/{job.pk}/cancel").status_code == 409
    assert api_client.get("/api/v1/jobs/999999/").status_code == 404


def test_job_list_filters_are_validated(api_client, model_store):
    from apps.jobs import services as job_services

    job, _ = job_services.job_create(kind="retrain", enqueue=False)
    assert [j["id"] for j in api_client.get("/api/v1/jobs/?kind=retrain&status=queued").json()["results"]] == [job.pk]
    assert api_client.get("/api/v1/jobs/?kind=score").json()["results"] == []
    for query in ("kind=bogus", "status=queued%00", "kind=sc%00ore"):
        response = api_client.get(f"/api/v1/jobs/?{query}")
        assert response.status_code == 400, query
        assert set(response.json()["extra"]["fields"]) & {"kind", "status"}, response.json()


def test_retrain_endpoint_queues_a_job(api_client, model_store):
    response = api_client.post("/api/v1/jobs/retrain", {"tasks": ["intent"]}, format="json")
    assert response.status_code == 201
    assert Job.objects.get().kind == "retrain"


def test_jobs_admin_shows_progress(admin_user_client, production):
    from apps.scoring.services import batch as scoring_jobs

    scoring_jobs.score_job_submit(params={"all": True})
    response = admin_user_client.get("/admin/jobs/job/")
    assert response.status_code == 200 and b"<progress" in response.content
