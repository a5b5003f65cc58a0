"""QA scoring through the queue with a REAL worker process (never eager)."""
import pytest

from apps.jobs.models import Job
from apps.qa.jobs import qa_score_submit
from apps.qa.models import CriterionAnswer, QaResult
from tests.qa.conftest import BAD_EN, GOOD_ZH, PROMISE_EN, make_conversation
from tests.workers.test_queue import _finished, wait_for, worker_factory  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_qa_score_job_on_a_real_worker(worker_factory):  # noqa: F811
    from apps.qa.default_scorecard import seed_default_scorecard

    version = seed_default_scorecard()
    convs = [make_conversation(turns, language=lang)
             for turns, lang in [(GOOD_ZH, "zh"), (BAD_EN, "en"), (PROMISE_EN, "en")] * 8]
    ids = [c.pk for c in convs]
    w = worker_factory()
    job, _ = qa_score_submit(params={"conversation_ids": ids, "chunk_size": 5})
    job = wait_for(lambda: _finished(job.pk), "the qa_score job", [w])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.total, job.done, job.failed) == (24, 24, 0)
    assert job.chunks.count() == 5
    results = QaResult.objects.filter(scorecard_version=version)
    assert results.count() == 24
    assert CriterionAnswer.objects.filter(result__in=results).count() == 24 * 10
    assert set(results.filter(auto_failed=True).values_list("score", flat=True)) == {0.0}
    assert results.filter(auto_failed=True).count() == 16
    assert set(results.filter(auto_failed=False).values_list("score", flat=True)) == {100.0}

    # Scoring the same conversations again rewrites the same rows.
    again, _ = qa_score_submit(params={"conversation_ids": ids})
    again = wait_for(lambda: _finished(again.pk), "the second qa_score job", [w])
    assert again.status == Job.Status.SUCCEEDED and again.done == 24
    assert QaResult.objects.filter(scorecard_version=version).count() == 24
    assert CriterionAnswer.objects.filter(result__scorecard_version=version).count() == 24 * 10
