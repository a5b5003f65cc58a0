"""Structured logs: one JSON object per line, with the request id, PII masked."""
import io
import json
import logging

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from apps.core.logging import PiiFilter, RequestIdFilter


@pytest.fixture
def log_lines():
    """Attach a handler built exactly like the configured ``console`` handler, to a buffer."""
    buffer = io.StringIO()
    formatter_conf = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(formatter_conf.pop("()"))(**formatter_conf)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PiiFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)


def test_configured_console_handler_masks_pii_and_adds_request_id():
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["formatter"] == "json"
    assert set(handler["filters"]) == {"request_id", "pii"}


@pytest.mark.django_db
def test_request_log_line_masks_phone_number_and_carries_request_id(client, log_lines):
    # Django logs every 404 with the path; the path carries a customer's phone number.
    response = client.get("/no-such-page/13812345678", HTTP_X_REQUEST_ID="req-ops-42")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-ops-42"
    lines = [line for line in log_lines() if line.get("name") == "django.request"]
    assert lines, "Django logged nothing for the 404"
    line = lines[-1]
    assert line["request_id"] == "req-ops-42"
    assert "13812345678" not in json.dumps(line)
    assert "[PHONE]" in line["message"]
    assert line["levelname"] == "WARNING"


def test_log_args_with_pii_are_masked_outside_requests(log_lines):
    logging.getLogger("csplatform.test").warning("customer %s wrote from %s", "13812345678", "a.b@example.com")
    line = log_lines()[-1]
    assert "13812345678" not in line["message"] and "a.b@example.com" not in line["message"]
    assert line["request_id"] == "-"


@pytest.mark.django_db
def test_generated_request_id_is_returned_when_client_sends_none(client):
    response = client.get("/health")
    assert len(response["X-Request-ID"]) == 32
