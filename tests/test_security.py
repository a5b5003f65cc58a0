"""Security: deploy checks, headers, anonymous access, CSRF, throttling, body limits."""
import os
import re
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from apps.core.throttling import ClientRateThrottle

REPO = Path(__file__).resolve().parents[1]
METHODS = ("get", "post", "put", "patch", "delete")


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.com",
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_production_start_without_secret_key_fails(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DEBUG": "false", "ALLOWED_HOSTS": "example.com", "VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- every URL pattern ------------------------------------------------------------------

def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _sample_path(pattern: str) -> str:
    """A concrete path for a route/regex pattern: ids become 1, uuids a uuid, strings 'sample'."""
    path = re.sub(r"\(\?P<format>[^)]*\)", "json", pattern)
    path = re.sub(r"\(\?P<\w+>(?:\[[^\]]*\]|[^()\[\]])*\)", "sample", path)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<uuid:\w+>", str(uuid.UUID(int=1)), path)
    path = re.sub(r"<(?:str:|slug:|path:)?\w+>", "sample", path)
    path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + path


def api_paths() -> list[str]:
    return sorted({_sample_path(p) for p in _walk(get_resolver().url_patterns) if p.startswith("api/")})


def test_url_walk_generates_resolvable_paths():
    paths = api_paths()
    assert "/api/schema/" in paths
    assert len(paths) >= 3
    for path in paths:
        try:
            resolve(path)
        except Resolver404:  # the sampler must cover every pattern, or the walk below skips it
            pytest.fail(f"sample path {path} does not resolve")


@pytest.mark.django_db
@pytest.mark.parametrize("method", METHODS)
def test_no_api_endpoint_answers_anonymously(anon_api_client, method):
    answered = {}
    for path in api_paths():
        response = getattr(anon_api_client, method)(path, {}, format="json") if method != "get" else anon_api_client.get(path)
        answered[path] = response.status_code
    open_paths = {p: s for p, s in answered.items() if s not in (401, 403)}
    assert not open_paths, f"answered without credentials: {open_paths}"


@pytest.mark.django_db
def test_bad_api_key_is_rejected_with_401(anon_api_client):
    anon_api_client.credentials(HTTP_AUTHORIZATION="Api-Key not.a-real-key")
    for path in api_paths():
        assert anon_api_client.get(path).status_code == 401, path


@pytest.mark.django_db
def test_only_health_answers_anonymously_outside_the_api(client):
    """Outside /api/, anonymous requests get /health, redirects to the login page, or 404."""
    assert client.get("/health").status_code in (200, 503)
    for path in ("/", "/dashboard/", "/admin/"):
        response = client.get(path, follow=True)
        assert response.redirect_chain, path
        assert response.redirect_chain[-1][0].startswith("/admin/login/"), path
    for pattern in _walk(get_resolver().url_patterns):
        if pattern.startswith(("api/", "admin/")) or pattern in ("", "health", "metrics", "i18n/setlang/"):
            continue
        if pattern.endswith("login/"):  # a sign-in page answers everyone
            continue
        path = _sample_path(pattern)
        response = client.get(path)
        assert response.status_code in (301, 302, 401, 403, 404, 405), (path, response.status_code)
        if response.status_code in (301, 302):
            assert "/login" in response.url or response.url.startswith("/admin/login") or response.url.endswith(
                "/dashboard/"
            ), (path, response.url)


@pytest.mark.django_db
def test_staff_session_without_csrf_token_cannot_write_api(client, staff_user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)
    response = csrf_client.post("/api/v1/customers/bulk", {"items": []}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


@pytest.mark.django_db
def test_console_login_requires_csrf_token(staff_user):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/admin/login/", {"username": "manager", "password": "pw-123456!"})
    assert response.status_code == 403


# --- headers ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_security_headers_on_api_and_pages(api_client, client):
    for response in (client.get("/health"), client.get("/admin/login/"), api_client.get("/api/v1/customers/")):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "X-Request-ID" in response


@pytest.mark.django_db
def test_hsts_and_ssl_redirect_behind_proxy(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
    client = Client()

    plain = client.get("/admin/login/")
    assert plain.status_code == 301 and plain.url.startswith("https://")
    proxied = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")
    assert client.get("/health").status_code in (200, 503)  # load balancer probes stay on HTTP


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_in_production(settings, staff_user):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    login_page = client.get("/admin/login/")
    assert login_page.cookies["csrftoken"]["secure"]
    client.post("/admin/login/", {"username": "manager", "password": "pw-123456!"})
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


# --- throttling and body limits ---------------------------------------------------------

@pytest.mark.django_db
def test_per_key_throttle_answers_429_with_retry_after(api_client, monkeypatch, api_key):
    from rest_framework.test import APIClient

    from apps.core.services import api_key_create

    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"default": "3/min", "predict": "3/min", "bulk": "3/min"})
    codes = [api_client.get("/api/v1/customers/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api_client.get("/api/v1/customers/")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60

    # The limit is per key: another key is not throttled by the first one's traffic.
    _, other_key = api_key_create(name="other-crm", scopes=["read"])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    assert other.get("/api/v1/customers/").status_code == 200


@pytest.mark.django_db
def test_body_over_limit_is_refused_with_413_before_auth(api_client, anon_api_client, settings):
    settings.API_MAX_BODY_BYTES = 1024
    body = {"items": [{"external_id": f"c{i}", "name": "x" * 50} for i in range(40)]}
    response = api_client.post("/api/v1/customers/bulk", body, format="json")
    assert response.status_code == 413
    assert response.json()["extra"]["limit"] == settings.API_MAX_BODY_BYTES
    assert anon_api_client.post("/api/v1/customers/bulk", body, format="json").status_code == 413


@pytest.mark.django_db
def test_invalid_content_length_is_a_400(client):
    response = client.generic("POST", "/api/v1/customers/bulk", b"{}", content_type="application/json",
                              CONTENT_LENGTH="abc")
    assert response.status_code == 400


def test_debug_is_off_unless_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update({"SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "example.com", "VAR_DIR": str(tmp_path),
                "DJANGO_SETTINGS_MODULE": "csplatform.settings"})
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "False", result.stderr
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**env, "DEBUG": "true"},
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "True", result.stderr
