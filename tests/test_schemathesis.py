"""Property-based API test: schemathesis generates requests from /api/schema/ for every operation.

Every response passes every schemathesis check (``--checks all``): no 5xx; documented status
codes, content types, headers and bodies; schema-valid requests accepted (or refused with a
status the configuration allows, see ``schemathesis.toml``) and schema-violating ones refused.
The test discovers whatever operations the schema has (new endpoints are covered
automatically), sends positive and negative (schema-violating) cases through the Django WSGI
app with an all-scopes API key, and asserts at least ``SCHEMATHESIS_MIN_REQUESTS`` (default
1,000) requests were made in total. Real production models are trained first (linear
backend), so ``/api/v1/predict`` answers for real.

    pytest tests/test_schemathesis.py -m slow
    SCHEMATHESIS_MIN_REQUESTS=5000 pytest tests/test_schemathesis.py   # a longer soak
"""
import math
import os
from collections import Counter

import pytest
import schemathesis
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from django.conf import settings as django_settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, is_check_class, load_all_checks
from schemathesis.config import SchemathesisConfig

MIN_REQUESTS = int(os.environ.get("SCHEMATHESIS_MIN_REQUESTS", "1000"))


def all_checks() -> list:
    """Every response check schemathesis has (what ``st run --checks all`` runs per response)."""
    load_all_checks()
    return [check for check in CHECKS.get_all() if not is_check_class(check)]


@pytest.fixture
def wsgi_app():
    """The Django WSGI app, called in-process inside the test's transaction.

    Like Django's test client, keep request start/end from closing the test's connection.
    """
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def production_models(db):
    from apps.registry.models import ModelVersion

    call_command("seed_demo", conversations=240, agents=8, customers=40, days=7, stdout=open(os.devnull, "w"))
    call_command("bootstrap_models", backend="linear", no_score=True, stdout=open(os.devnull, "w"))
    assert ModelVersion.objects.filter(status=ModelVersion.Status.PRODUCTION).exists()


def _exercise(operation, mode: GenerationMode, n: int, headers: dict, seen: Counter, failures: list,
              reported: set, checks: list) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        # A savepoint per request: a request that breaks the transaction (a 500 from the
        # database) is rolled back and reported, instead of failing every later request.
        savepoint = transaction.savepoint()
        response = case.call(headers=headers)
        seen[(operation.label, response.status_code)] += 1
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # collect all, report together
            problems = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
            titles = sorted({getattr(p, "title", type(p).__name__) for p in problems})
            key = (operation.label, response.status_code, tuple(titles))
            if key not in reported:
                reported.add(key)
                failures.append(
                    f"{operation.label} [{mode.value}] -> {response.status_code}: {', '.join(titles)}\n    "
                    f"{case.as_curl_command(headers={'Authorization': '[key]'})[:800]}\n    "
                    f"{response.text[:300]}"
                )

    try:
        run()
    except Unsatisfiable:
        # Nothing to violate (negative mode on an operation without inputs): nothing to send.
        pass


@pytest.mark.slow
@pytest.mark.django_db
def test_generated_requests_pass_all_checks(api_key, production_models, wsgi_app):
    headers = {"Authorization": f"Api-Key {api_key}"}
    config = SchemathesisConfig.from_path(django_settings.BASE_DIR / "schemathesis.toml")
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers, config=config)
    checks = all_checks()
    assert len(checks) >= 10, "schemathesis' checks did not load"
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, "the schema lists too few operations"
    per_operation = math.ceil(MIN_REQUESTS * 1.2 / len(operations))

    seen: Counter = Counter()
    failures: list[str] = []
    reported: set = set()
    for operation in operations:
        for mode, share in ((GenerationMode.POSITIVE, 0.6), (GenerationMode.NEGATIVE, 0.4)):
            _exercise(operation, mode, math.ceil(per_operation * share), headers, seen, failures, reported, checks)

    total = sum(seen.values())
    by_status = Counter()
    for (_, status), n in seen.items():
        by_status[status] += n
    print(f"\nschemathesis: {total} requests over {len(operations)} operations; statuses {dict(sorted(by_status.items()))}")
    assert not failures, f"{len(failures)} check failures:\n" + "\n".join(failures[:20])
    assert total >= MIN_REQUESTS
    # The key was accepted: most requests got past authentication.
    assert by_status[401] + by_status[403] < total / 2
