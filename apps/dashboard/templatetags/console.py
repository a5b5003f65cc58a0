from django import template
from django.conf import settings
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def flower_url() -> str:
    return settings.FLOWER_URL


@register.filter
def pct(value, digits: int = 1) -> str:
    """0.1234 -> '12.3%'; None -> '—'."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def num(value, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def reason_label(code: str) -> str:
    labels = {
        "low_confidence": _("low confidence"),
        "negative_sentiment": _("negative sentiment"),
        "low_quality": _("predicted quality below 3"),
        "manual": _("picked by a manager"),
    }
    return labels.get(code, code)
