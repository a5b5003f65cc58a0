import logging

from ml.pii import mask_pii

from .middleware import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
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
        return True
