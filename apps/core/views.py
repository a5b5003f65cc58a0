from django.db import connection
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from csplatform.celery import app as celery_app

from .responses import error_response


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:  # report, never raise, from a health probe
        return False, type(exc).__name__


def _broker_ok() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True, conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport.driver_name
    except Exception as exc:
        return False, type(exc).__name__


@never_cache
@require_GET
def health(request):
    db_ok, db_info = _database_ok()
    broker_ok, broker_info = _broker_ok()
    ok = db_ok and broker_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"ok": db_ok, "detail": db_info},
        "broker": {"ok": broker_ok, "detail": broker_info},
    }
    return JsonResponse(body, status=200 if ok else 503)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request, exception):
    """404 in the API's error shape under ``/api/``, Django's page elsewhere."""
    if _is_api(request):
        return error_response(_("Not found."), 404, {"code": "not_found"})
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500 in the API's error shape under ``/api/``, Django's page elsewhere."""
    if _is_api(request):
        return error_response(_("Internal server error."), 500, {"code": "server_error"})
    return defaults.server_error(request)
