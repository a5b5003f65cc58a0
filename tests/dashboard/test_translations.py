"""Translation completeness: every console page and the admin's index, app indexes and the
console's own admin pages rendered in Chinese shows no English words of ours, and in English no Chinese
words of ours. Data (names, ids, intents, the user's name) is allowed in either language.

A word of ours is any run of Latin letters (in Chinese pages) or of CJK characters (in English
pages) in a visible text node or a title/aria-label/placeholder/alt attribute that is not
data and not on the short list of terms that stay as they are (CSAT, API, Flower, ...).
"""
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.factories import AgentFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

# Terms and codes that are the same in both languages.
KEEP = {
    "CSAT", "API", "Flower", "Webhook", "webhook", "Webhooks", "URL", "CSV", "XLSX", "JSON", "PNG", "ID", "id", "VIP",
    "Kappa", "kappa", "Cohen", "Cohen's", "F1", "TF-IDF", "TF", "IDF", "Transformer", "QA", "Enter", "Esc", "Shift", "Tab",
    "Django", "Fleiss", "Fleiss'", "HMAC", "SHA", "sha256", "AM", "PM", "pp", "MAE", "OpenAPI", "Celery", "R²", "UTC", "PII", "CRM",
    "v", "i", "j", "k", "s", "h", "min", "ms", "Chart", "js", "Prometheus", "Redoc", "Swagger", "English",
}
LATIN = re.compile(r"[A-Za-z][A-Za-z'’]+")
CJK = re.compile(r"[\u3400-\u9fff]+")
ATTRS = ("title", "aria-label", "placeholder", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "datalist", "option", "textarea", "noscript"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.skipping: list[str] = []  # open elements since the first skipped one ("" = not skipped)
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        # Content marked with its own language (a transcript, suggestions in the conversation's
        # language) is data, not the page's text.
        if tag in VOID:
            pass
        elif tag in SKIP_TAGS or (tag != "html" and any(name == "lang" for name, _ in attrs)):
            self.skip += 1
            self.skipping.append(tag)
        elif self.skipping:
            self.skipping.append("")
        for name, value in attrs:
            if name in ATTRS and value:
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.skipping:
            if self.skipping.pop():
                self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.chunks.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.chunks


@pytest.fixture
def world(db, django_user_model):
    """Console data whose names are Chinese (so English words can only be labels) plus ids."""
    from apps.alerts.models import Alert, AlertRule
    from apps.jobs.models import Job
    from apps.registry.models import ModelVersion, Promotion
    from apps.scoring.models import ReviewItem

    user = django_user_model.objects.create_superuser(username="经理", password="pw-123456!", email="m@example.com")
    agent = AgentFactory(name="王芳", team="一组")
    now = timezone.now()
    conversation = ConversationFactory(agent=agent, predicted_intent="余额查询", predicted_sentiment="negative",
                                       predicted_quality=2.5, started_at=now, ended_at=now, csat=3)
    MessageFactory(conversation=conversation, seq=1, speaker="customer", text="你好", sent_at=now)
    MessageFactory(conversation=conversation, seq=2, speaker="agent", text="您好", sent_at=now)
    item = ReviewItem.objects.create(conversation=conversation, reasons=["low_quality"])
    v1 = ModelVersion.objects.create(task="intent", backend="linear", version=1, artifact_path="intent/v1",
                                     sha256="a" * 64, status="production", metrics={"accuracy": 0.9, "n_train": 559},
                                     comparison={"reason": "promotion forced (bootstrap)"})
    v2 = ModelVersion.objects.create(task="intent", backend="linear", version=2, artifact_path="intent/v2",
                                     sha256="b" * 64, metrics={"macro_f1": 0.8},
                                     comparison={"candidate": {"macro_f1": 0.8}, "production": {"macro_f1": 0.7},
                                                 "production_version": 1, "margin": 0.01, "reason": "x",
                                                 "heldout": {"n": 10}})
    Promotion.objects.create(task="intent", model_version=v1, action="promote", at=now,
                             reason="retrain job 1: promotion forced (bootstrap)")
    job = Job.objects.create(kind="assess", status="succeeded", params={"date": "2026-03-02"},
                             result={"flagged": 1}, steps=[{"at": now.isoformat(), "step": "aggregated", "n": 1}])
    rule = AlertRule.objects.create(name="质量过低", metric="mean_quality", scope="agent", comparison="below",
                                    threshold=3)
    Alert.objects.create(rule=rule, date=now.date(), subject_key=str(agent.pk), subject_label=agent.name,
                         team="一组", metric="mean_quality", value=2.5, threshold=3, comparison="below", n=1,
                         window_start=now.date(), window_end=now.date())
    AlertRule.objects.exclude(pk=rule.pk).delete()  # rules are data; the default ones are named in English
    data = {agent.external_id, conversation.external_id, conversation.customer.external_id, user.username,
            *CJK.findall(conversation.customer.display_name), "m@example.com", "example", "com",
            # keys and step names of a job's recorded JSON
            "date", "flagged", "aggregated", "n"}
    from apps.qa.default_scorecard import seed_default_scorecard
    from apps.qa.models import CalibrationSession
    from apps.qa.services import qa_results_upsert

    seed_default_scorecard(actor=None)
    (result,) = qa_results_upsert(conversation_ids=[conversation.pk])
    session = CalibrationSession.objects.create(name="校准一", scorecard_version=result.scorecard_version,
                                                created_by=user)
    session.conversations.add(conversation)
    session.reviewers.add(user)
    from apps.qa.models import Criterion, SamplingRule

    # A scorecard's name, its criteria's keys and the sampling rules' names are data a manager typed.
    data |= set(LATIN.findall(result.scorecard_version.scorecard.name)) | {"docs", "qa", "md"}
    data |= set(Criterion.objects.values_list("key", flat=True))  # shown alone, as identifiers
    for name in SamplingRule.objects.values_list("name", flat=True):
        data |= set(LATIN.findall(name)) | set(CJK.findall(name))
    pages = [
        reverse("qa:home"), reverse("qa:results"), reverse("qa:result", args=[result.pk]),
        reverse("qa:disputes"), reverse("qa:assignments"), reverse("qa:try"),
        reverse("qa:calibration", args=[session.pk]),
        reverse("dashboard:overview"), reverse("dashboard:conversations"),
        reverse("dashboard:conversation", args=[conversation.pk]), reverse("dashboard:agent", args=[agent.pk]),
        reverse("dashboard:teams"), reverse("dashboard:team", args=["一组"]), reverse("dashboard:review"),
        reverse("dashboard:review_item", args=[item.pk]), reverse("dashboard:agreement"),
        reverse("dashboard:models"), reverse("dashboard:model_promote", args=[v2.pk]),
        reverse("dashboard:model_rollback", args=["intent"]), reverse("dashboard:jobs"),
        reverse("dashboard:job", args=[job.pk]), reverse("alerts:list"),
    ]
    return {"user": user, "data": data, "pages": pages}


def admin_pages() -> list[str]:
    """The admin's index and every app index (section headings, model names, breadcrumbs), and the
    change lists and add forms of the console's own models (their labels and help texts)."""
    pages = [reverse("admin:index")]
    labels = sorted({model._meta.app_label for model in admin.site._registry})
    pages += [reverse("admin:app_list", args=[label]) for label in labels]
    for name in ("alertrule", "alert", "teamreport"):
        pages.append(reverse(f"admin:alerts_{name}_changelist"))
    pages += [reverse("admin:alerts_alertrule_add"), reverse("admin:alerts_teamreport_add")]
    return pages


# Strings of Django and of the libraries the admin shows (their catalogues, not ours).
THIRD_PARTY = {"Axes", "Access attempts", "Access failures", "Access logs", "Add link", "Change or view list link",
               "Model name", "Search", "True", "False", "Django administration", "Periodic tasks", "Clocked",
               "Crontabs", "Intervals", "Solar events", "Task results", "Group results", "Results",
               "Authentication and Authorization", "Groups", "Users"}


def _our_sources() -> str:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    parts = []
    for base, pattern in (("apps", "**/*.py"), ("templates", "**/*.html"), ("csplatform", "*.py")):
        for path in (root / base).glob(pattern):
            if "migrations" not in path.parts:
                parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


SOURCES = None


def is_ours(phrase: str) -> bool:
    """Whether ``phrase`` is a string literal or template text of this project (not a library's)."""
    global SOURCES
    if phrase in THIRD_PARTY:
        return False
    if SOURCES is None:
        SOURCES = _our_sources()
    return re.search(r"""(?i)(["'>]|\{%\s*(?:trans|translate)\s+["'])\s*""" + re.escape(phrase) + r"""\s*[:"'<]""",
                     SOURCES) is not None


def _words(client, url: str, pattern: re.Pattern, allowed: set[str]) -> set[str]:
    response = client.get(url)
    assert response.status_code in (200, 403), (url, response.status_code)
    if response.status_code != 200:
        return set()
    found = set()
    for chunk in visible_text(response.content.decode()):
        if chunk in allowed:
            continue
        for word in pattern.findall(chunk):
            if word in allowed or word.strip("'’") in allowed:
                continue
            if pattern is LATIN and re.fullmatch(r"[A-Z]+\d*", word) and len(word) <= 4:
                continue  # codes such as IDs, "A", "CN"
            if pattern is LATIN:
                # The whole run of Latin words around it, e.g. "team lead" in "增加 team lead".
                run = re.search(r"(?:[A-Za-z'’-]+ )*" + re.escape(word) + r"(?: [A-Za-z'’-]+)*", chunk)
                phrase = run.group(0).strip() if run else word
                if not is_ours(phrase):
                    continue
                found.add(f"{phrase}  «{chunk[:80]}»")
            else:
                found.add(f"{word}  «{chunk[:80]}» {url}")
    return found


def _login(client, world, language: str):
    client.force_login(world["user"])
    client.cookies["django_language"] = language


def test_console_and_admin_pages_in_chinese_have_no_english_of_ours(client, world):
    _login(client, world, "zh-hans")
    allowed = KEEP | world["data"]
    problems = set()
    for url in world["pages"] + admin_pages():
        problems |= _words(client, url, LATIN, allowed)
    assert not problems, "English left in Chinese pages:\n" + "\n".join(sorted(problems))


def test_console_and_admin_pages_in_english_have_no_chinese_of_ours(client, world):
    from apps.core.labels import INTENTS_ZH

    _login(client, world, "en")
    allowed = set(INTENTS_ZH) | {"简体中文", "王芳", "一组", "质量过低", "经理", "你好", "您好", "校准一"} | world["data"]
    problems = set()
    for url in world["pages"] + admin_pages():
        problems |= _words(client, url, CJK, allowed)
    assert not problems, "Chinese left in English pages:\n" + "\n".join(sorted(problems))
