import logging

from ml.pii import mask_pii

from .middleware import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id_var.get()
        if rid == "-":  # django.request logs a response after the middleware chain returned
            rid = getattr(getattr(record, "request", None), "request_id", None) or getattr(record, "request_id", rid)
        record.request_id = rid
        return True


class PiiFilter(logging.Filter):
    """Mask PII in the rendered message so it never reaches a log sink."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; leave the record alone
            return True
        masked = mask_pii(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        # django.request passes the request as an ``extra``; a JSON formatter would render its
        # repr, raw path included. Keep only the masked method and path.
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.request = mask_pii(f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}")
        return True
