from django import template
from django.conf import settings
from django.utils.translation import gettext as _
from apps.core.labels import Sentiment

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
        "qa_auto_fail": _("QA auto-fail"),
        "qa_low_score": _("low QA score"),
    }
    return labels.get(code, code)


@register.filter
def duration(seconds) -> str:
    """Seconds as '45 s', '3 min 05 s' or '1 h 02 min'; None -> '—'."""
    if seconds is None or seconds == "":
        return "—"
    total = int(round(float(seconds)))
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total < 60:
        return _("%(sign)s%(s)d s") % {"sign": sign, "s": total}
    if total < 3600:
        return _("%(sign)s%(m)d min %(s)02d s") % {"sign": sign, "m": total // 60, "s": total % 60}
    return _("%(sign)s%(h)d h %(m)02d min") % {"sign": sign, "h": total // 3600, "m": total % 3600 // 60}


# How each KPI's change is written, and whether a rise is good (True), bad (False) or neither (None).
KPI_STYLE = {
    "total": ("int", None), "mean_quality": ("num", True), "negative_share": ("pct", False),
    "resolution_rate": ("pct", True), "mean_csat": ("num", True), "csat_response_rate": ("pct", True),
    "first_response_s": ("s", False), "handle_time_s": ("s", False), "uncertain": ("int", False),
    "unscored": ("int", False), "pending_review": ("int", None),
}


@register.simple_tag
def kpi_change(changes: dict, key: str):
    """'+0.12 vs the previous period', coloured good/bad; '—' when either period has no value."""
    from django.utils.html import format_html

    entry = (changes or {}).get(key) or {}
    delta = entry.get("delta")
    if delta is None:
        return format_html('<span class="change">{}</span>', _("no previous figure"))
    kind, up_is_good = KPI_STYLE.get(key, ("num", None))
    if kind == "pct":
        text = _("%(v)+.1f pp") % {"v": delta * 100}
    elif kind == "int":
        text = f"{int(delta):+d}"
    elif kind == "s":
        text = ("+" if delta > 0 else "") + duration(delta)
    else:
        text = f"{delta:+.2f}"
    css = "change"
    if delta and up_is_good is not None:
        css += " delta-pos" if (delta > 0) == up_is_good else " delta-neg"
    return format_html('<span class="{}" title="{}">{} {}</span>', css, _("Change against the previous period"),
                       text, _("vs previous period"))


@register.filter
def backend_label(code: str) -> str:
    """The model backend's name for a manager (the code stays in the API and the admin)."""
    labels = {
        "linear": _("linear (TF-IDF)"),
        "embedding": _("sentence embeddings"),
        "transformer": _("fine-tuned transformer"),
        "ensemble": _("ensemble"),
        "quality": _("quality regression"),
    }
    return labels.get(code, code)


@register.filter
def sentiment_label(code: str) -> str:
    """A sentiment code in the page's language; '—' when empty."""

    if not code:
        return "—"
    return str(dict(Sentiment.choices).get(code, code))


@register.filter
def version_label(version) -> str:
    """'Intent v3 (linear (TF-IDF), in production)' in the page's language."""
    if version is None:
        return "—"
    return _("%(task)s v%(n)s (%(backend)s, %(status)s)") % {
        "task": version.get_task_display(), "n": version.version, "backend": backend_label(version.backend),
        "status": version.get_status_display(),
    }


@register.filter
def promotion_reason(reason: str) -> str:
    """The reason the registry recorded, with its fixed phrases in the page's language."""
    import re

    if not reason:
        return "—"
    phrases = {
        "promotion forced (bootstrap)": _("first model, installed without a comparison (bootstrap)"),
        "no production version to compare with": _("no production version to compare with"),
        "empty held-out set: cannot compare": _("no held-out conversations to compare on"),
    }
    for source, text in phrases.items():
        reason = reason.replace(source, str(text))
    return re.sub(r"^retrain job (\d+): ", lambda m: _("retraining job #%(id)s: ") % {"id": m.group(1)}, reason)
