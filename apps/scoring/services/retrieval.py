"""Reply index: the best past agent replies, found by the customer message they answered.

The index itself (char n-gram TF-IDF, partitions per language and intent, artifact files)
lives in :mod:`ml.retrieval`; this module decides what goes in (agent replies of resolved
conversations with quality >= 4), rebuilds it incrementally, and serves it from a per-process
cache that reloads when the manifest on disk changes.

Quality and intent of a conversation, best source first: the manager's review
(``ReviewItem`` reviewed), the CRM label, the model's prediction.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from apps.conversations.models import Conversation, Message
from apps.core.cache import TTLCache
from apps.core.labels import INTENT_ZH_TO_EN
from apps.scoring.models import ReviewItem
from ml.artifacts import MANIFEST, ArtifactError
from ml.pii import mask_pii
from ml.retrieval import ReplyIndex, normalize_language, reply_pairs

logger = logging.getLogger(__name__)

MIN_QUALITY = 4.0
INDEX_DIRNAME = "reply_index"
# How often (seconds) a process checks whether the manifest on disk changed.
RELOAD_CHECK_SECONDS = 2.0
_FETCH_CHUNK = 2000
_INTENT_EN_TO_ZH = {en: zh for zh, en in INTENT_ZH_TO_EN.items()}


def canonical_intent(intent: str | None) -> str:
    """One name per intent: the English demo names map to the Chinese ones (``transfer`` -> ``转账汇款``)."""
    intent = (intent or "").strip()
    return _INTENT_EN_TO_ZH.get(intent, intent)


def reply_index_path() -> Path:
    return Path(settings.MODEL_STORE) / INDEX_DIRNAME


def _best(*values):
    for value in values:
        if value not in (None, ""):
            return value
    return None


def _candidates():
    """Yield ``(conversation_id, external_id, language, intent, quality, signature)`` of indexable conversations.

    The signature changes whenever anything that decides the conversation's rows changes
    (content, resolution, labels, review, prediction), so a rebuild re-encodes exactly the
    changed conversations. ``updated_at`` alone is not enough: bulk updates (ingest, scoring)
    do not touch it.
    """
    reviewed = ReviewItem.Status.REVIEWED
    rows = Conversation.objects.order_by("id").values_list(
        "id", "external_id", "language", "resolved", "content_hash", "updated_at",
        "label_intent", "label_quality", "predicted_intent", "predicted_quality",
        "review__status", "review__intent", "review__quality",
    )
    for (pk, external_id, language, resolved, content_hash, updated_at, label_intent, label_quality,
         predicted_intent, predicted_quality, review_status, review_intent, review_quality) in rows.iterator(
            chunk_size=5000):
        is_reviewed = review_status == reviewed
        quality = _best(review_quality if is_reviewed else None, label_quality, predicted_quality)
        if resolved is not True or quality is None or quality < MIN_QUALITY:
            continue
        intent = canonical_intent(_best(review_intent if is_reviewed else None, label_intent, predicted_intent))
        language = normalize_language(language)
        signature = hashlib.sha256(
            "\x1f".join(map(str, (content_hash, updated_at.isoformat() if updated_at else "", language, intent,
                                  quality))).encode()
        ).hexdigest()[:24]
        yield pk, external_id, language, intent, float(quality), signature


def _records(conversations: dict[int, tuple]) -> list[dict]:
    """Reply records of ``conversations`` ({id: (external_id, language, intent, quality)})."""
    records = []
    ids = sorted(conversations)
    for start in range(0, len(ids), _FETCH_CHUNK):
        chunk = ids[start:start + _FETCH_CHUNK]
        messages: dict[int, list[dict]] = {}
        for conversation_id, seq, speaker, text in (
            Message.objects.filter(conversation_id__in=chunk)
            .order_by("conversation_id", "seq")
            .values_list("conversation_id", "seq", "speaker", "text")
        ):
            messages.setdefault(conversation_id, []).append({"seq": seq, "speaker": speaker, "text": text})
        for conversation_id in chunk:
            external_id, language, intent, quality = conversations[conversation_id]
            for query, reply in reply_pairs(messages.get(conversation_id, [])):
                records.append({
                    "query": query, "reply": mask_pii(reply), "language": language, "intent": intent,
                    "group": conversation_id, "source": external_id, "quality": quality,
                })
    return records


@contextlib.contextmanager
def _build_lock():
    """One rebuild at a time per model store (a second one returns at once)."""
    store = Path(settings.MODEL_STORE)
    store.mkdir(parents=True, exist_ok=True)
    with open(store / f".{INDEX_DIRNAME}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def reply_index_rebuild(*, full: bool = False) -> dict:
    """Bring the reply index up to date with the database and write it to ``MODEL_STORE/reply_index/``.

    Incremental by default: conversations whose signature is unchanged keep their rows
    as they are (not re-encoded, vocabulary kept); new or changed ones are encoded and
    added, and those that changed, stopped qualifying or were deleted are dropped.
    ``full=True`` refits the vocabulary and re-encodes everything (also done when no
    valid index exists). The manifest records the build's counts and a watermark
    (newest ``updated_at`` and id seen).

    Returns
    -------
    dict
        Summary: ``full``, ``n_encoded``, ``n_removed``, ``n_rows``, ``n_conversations``,
        ``written`` (False when nothing changed), ``skipped`` (another build held the lock).
    """
    with _build_lock() as acquired:
        if not acquired:
            return {"skipped": "another rebuild is running"}
        return _rebuild(full=full)


def _rebuild(*, full: bool) -> dict:
    path = reply_index_path()
    watermark = Conversation.objects.aggregate(updated_at=Max("updated_at"), id=Max("id"))
    index = None
    if not full and (path / MANIFEST).exists():
        try:
            index = ReplyIndex.load(path)
        except ArtifactError as exc:
            logger.warning("reply index at %s refused (%s); rebuilding it in full", path, exc)
    full = index is None

    wanted = {str(pk): (pk, rest[:-1], rest[-1]) for pk, *rest in _candidates()}
    if full:
        to_add = set(wanted)
        to_remove: set[str] = set()
    else:
        old_tags = index.group_tags_
        to_add = {g for g, (_, _, signature) in wanted.items() if old_tags.get(g) != signature}
        to_remove = {g for g, signature in old_tags.items() if wanted.get(g, (None, None, None))[2] != signature}
        to_remove |= index.groups() - set(wanted)
    records = _records({wanted[g][0]: tuple(wanted[g][1]) for g in to_add})
    tags = {g: wanted[g][2] for g in to_add}
    if full:
        index = ReplyIndex().fit(records, group_tags=tags)
    elif to_add or to_remove:
        index.update(records, remove_groups=to_remove, group_tags=tags)
    written = full or bool(to_add or to_remove)
    summary = {
        "full": full,
        "n_encoded": index.n_encoded_ if written else 0,
        "n_removed": index.n_removed_ if written and not full else 0,
        "n_conversations_added": len(to_add),
        "n_conversations_removed": len(to_remove - to_add),
        "n_rows": index.n_rows,
        "n_conversations": len(index.group_tags_),
        "written": written,
    }
    if written:
        index.save(path, manifest={
            "build": {**summary, "built_at": timezone.now().isoformat()},
            "watermark": {
                "updated_at": watermark["updated_at"].isoformat() if watermark["updated_at"] else None,
                "id": watermark["id"],
            },
            "min_quality": MIN_QUALITY,
        })
        _index_checked.invalidate()
    logger.info("reply index rebuilt", extra={"reply_index": summary})
    return summary


def reply_index_manifest() -> dict | None:
    """The manifest of the index in memory (loading it if needed), or None when there is none."""
    index = _index_current()
    return getattr(index, "manifest_", None) if index is not None else None


_index_lock = threading.Lock()
_index_loaded: dict = {"key": None, "index": None}  # the manifest's identity when loaded, and the index
# The index as last checked against the manifest on disk, kept RELOAD_CHECK_SECONDS.
_index_checked = TTLCache(ttl=RELOAD_CHECK_SECONDS, maxsize=1)


def _index_check() -> tuple[ReplyIndex | None]:
    """The index for the manifest on disk now, reloaded only when the manifest changed."""
    with _index_lock:
        path = reply_index_path()
        try:
            stat = os.stat(path / MANIFEST)
            key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except FileNotFoundError:
            key = (str(path), None)
        loaded_key = _index_loaded["key"]
        same_store = loaded_key is not None and loaded_key[0] == str(path)
        if key != loaded_key:
            if key[1] is None:
                # Between the two renames of an atomic replace the directory is briefly absent:
                # keep serving what we have unless the store itself changed.
                if not same_store:
                    _index_loaded.update(key=key, index=None)
            else:
                try:
                    _index_loaded["index"] = ReplyIndex.load(path)
                except (ArtifactError, OSError) as exc:
                    logger.error("reply index at %s refused: %s", path, exc)
                    if not same_store:
                        _index_loaded["index"] = None
                _index_loaded["key"] = key
        return (_index_loaded["index"],)


def _index_current() -> ReplyIndex | None:
    return _index_checked.get_or_set("index", _index_check)[0]


def reply_index_load() -> ReplyIndex:
    """Load and verify the index from disk (no cache). Raises ``ArtifactError`` when missing or tampered."""
    return ReplyIndex.load(reply_index_path())


def reply_index_clear_cache() -> None:
    """Forget the in-memory index (tests, after changing ``MODEL_STORE``)."""
    with _index_lock:
        _index_loaded.update(key=None, index=None)
    _index_checked.invalidate()


def reply_search(*, text: str, intent: str | None, language: str | None, k: int = 3) -> list[dict]:
    """Top-``k`` past replies for a customer message, from conversations of the same intent and language.

    ``intent`` blank searches every intent of the language. Returns
    ``[{"text", "conversation_external_id", "quality", "similarity"}]``; empty when no index exists.
    """
    index = _index_current()
    if index is None or k <= 0 or not (text or "").strip():
        return []
    intent = canonical_intent(intent)
    hits = index.search(text, language=normalize_language(language, text), intent=intent or None, k=k)
    return [
        {
            "text": hit["text"],  # masked by the index (on the way in and on load)
            "conversation_external_id": hit["source"],
            "quality": hit["quality"],
            "similarity": hit["similarity"],
        }
        for hit in hits
    ]
