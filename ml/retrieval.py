"""Nearest-neighbour index of past agent replies, keyed by the customer message they answered.

Pure Python (NumPy, SciPy, scikit-learn); never imports Django.

Each record pairs a customer message (the *query*) with the agent reply that followed
it. Queries are embedded with character n-gram TF-IDF (``char_wb``; 1-3 grams for
Chinese, 2-4 for other languages), which needs no pretrained checkpoint and works for
Chinese, English and mixed text alike. Rows are L2-normalised, so cosine similarity is a
sparse product: the query row times the partition's transposed (n-gram x reply) CSR matrix. The index is partitioned by
``(language, intent)`` so that a query only scores the rows of its own language and intent.

Incremental updates keep each language's vocabulary and IDF fixed (those of the last
full :meth:`ReplyIndex.fit`) and only encode the records being added; rows of removed
groups (conversations) are dropped without re-encoding anything else.

Artifacts are directories written by :mod:`ml.artifacts` (manifest with the sha256 of
every file, atomic replace): vocabulary and IDF as JSON, vectors as ``scipy.sparse``
``.npz`` (loaded with ``allow_pickle=False``), entries as JSON. Nothing is pickled.
"""

import json
from itertools import repeat
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer

from ml import artifacts
from ml.inference import TfidfUnion
from ml.pii import mask_pii
from ml.reply_text import CJK_LANGUAGES, _SAFE, _dedupe_key, default_ngram_range, normalize_language, reply_pairs

__all__ = [
    "ANY_INTENT", "BACKEND", "CJK_LANGUAGES", "TASK", "ReplyIndex", "default_ngram_range", "normalize_language",
    "reply_pairs",
]

TASK = "reply_index"
BACKEND = "char_tfidf"
ANY_INTENT = None


def vectorizer_state(vectorizer):
    """The JSON-ready state (parameters, vocabulary, IDF) of a fitted ``TfidfVectorizer``."""
    return {
        "analyzer": vectorizer.analyzer,
        "ngram_range": list(vectorizer.ngram_range),
        "sublinear_tf": vectorizer.sublinear_tf,
        "vocabulary": {term: int(index) for term, index in vectorizer.vocabulary_.items()},
        "idf": vectorizer.idf_.tolist(),
    }


def vectorizer_from_state(state):
    """A fitted ``TfidfVectorizer`` rebuilt from :func:`vectorizer_state` (nothing unpickled)."""
    vectorizer = TfidfVectorizer(analyzer=state["analyzer"], ngram_range=tuple(state["ngram_range"]),
                                 sublinear_tf=state["sublinear_tf"], vocabulary=state["vocabulary"])
    vectorizer.idf_ = np.asarray(state["idf"], dtype=np.float64)
    return vectorizer


def _similarities(features, values, XT):
    """The dot product of a query row (``values`` at columns ``features``) with each column of
    ``XT`` (F x N, CSR: one posting list of rows per feature), as a dense vector, summed over
    the query's features' posting lists only. Same numbers as SciPy's sparse product, without
    its per-call set-up, which on one query costs more than the arithmetic (``bench/load.sh``,
    docs/benchmarks.md "Real-time predict")."""
    starts = XT.indptr[features]
    lengths = XT.indptr[features + 1] - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(XT.shape[1])
    positions = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    weights = XT.data[positions] * np.repeat(values, lengths)
    return np.bincount(XT.indices[positions], weights=weights, minlength=XT.shape[1])


class ReplyIndex:
    """Partitioned nearest-neighbour index of agent replies.

    Parameters
    ----------
    ngram_range : dict or None
        ``{language: (min_n, max_n)}`` overrides; default :func:`default_ngram_range`.
    analyzer : str
        scikit-learn analyzer, ``"char_wb"`` by default.
    min_df : int
        Minimum document frequency of an n-gram (fit only).
    max_features : int or None
        Cap on each language's vocabulary (most frequent n-grams kept).
    sublinear_tf : bool
        Use ``1 + log(tf)``.
    dedupe : bool
        Return each distinct reply text once per query.

    Notes
    -----
    A record is a dict: ``query`` (customer message), ``reply`` (agent reply),
    ``language``, ``intent`` (partition key; ``""`` allowed), ``group`` (the source
    conversation; removal unit), ``source`` (external id shown to users), ``quality``.
    Record texts should already be PII-masked; replies are masked again on the way in
    and on the way out as a guard.
    """

    def __init__(self, ngram_range=None, analyzer="char_wb", min_df=1, max_features=200_000, sublinear_tf=True,
                 dedupe=True):
        self.ngram_range = ngram_range
        self.analyzer = analyzer
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.dedupe = dedupe

    # -- building -----------------------------------------------------------------
    def _ngram_range(self, language):
        overrides = self.ngram_range or {}
        return tuple(overrides.get(language, default_ngram_range(language)))

    def _reset(self):
        self.vectorizers_ = {}
        self.query_features_ = {}  # language -> the vectorizer's compiled form (ml.inference), for search
        self.parts_ = {}
        self.group_tags_ = {}
        self.fitted_on_ = {}
        self.n_encoded_ = 0
        self.n_removed_ = 0

    def fit(self, records, group_tags=None):
        """Build the index from scratch: fit each language's vocabulary and encode every record.

        Parameters
        ----------
        records : iterable of dict
        group_tags : dict, optional
            ``{group: tag}`` the caller uses to detect changed groups later.

        Returns
        -------
        self
        """
        self._reset()
        self.fitted_ = True
        return self.update(records, group_tags=group_tags, _fit=True)

    def update(self, records, remove_groups=(), group_tags=None, _fit=False):
        """Remove the rows of ``remove_groups`` and encode and add ``records``.

        Existing rows are not re-encoded; a language seen for the first time gets its
        vocabulary fitted on the records being added.

        Parameters
        ----------
        records : iterable of dict
        remove_groups : iterable
            Groups (conversations) whose rows are dropped first; re-adding a group's
            records after removing it replaces them.
        group_tags : dict, optional
            Tags of the added groups (removed groups lose theirs).

        Returns
        -------
        self
        """
        if not _fit:
            self._check_fitted()
        remove = {str(g) for g in remove_groups}
        self.n_removed_ = 0
        if remove:
            for key in list(self.parts_):
                part = self.parts_[key]
                keep = np.array([str(e["group"]) not in remove for e in part["entries"]], dtype=bool)
                if keep.all():
                    continue
                self.n_removed_ += int((~keep).sum())
                if not keep.any():
                    del self.parts_[key]
                    continue
                part["XT"] = part["XT"][:, np.flatnonzero(keep)].tocsr()
                part["entries"] = [e for e, k in zip(part["entries"], keep) if k]
            for group in remove:
                self.group_tags_.pop(group, None)

        by_language = {}
        for record in records:
            query = str(record.get("query") or "").strip()
            reply = mask_pii(str(record.get("reply") or "").strip())
            if not query or not reply:
                continue
            language = normalize_language(record.get("language"), query)
            by_language.setdefault(language, []).append({
                "query": query,
                "reply": reply,
                "intent": str(record.get("intent") or ""),
                "group": str(record.get("group") if record.get("group") is not None else ""),
                "source": str(record.get("source") or ""),
                "quality": None if record.get("quality") is None else float(record["quality"]),
            })
        self.n_encoded_ = 0
        for language, rows in sorted(by_language.items()):
            vectorizer = self.vectorizers_.get(language)
            if vectorizer is None:
                vectorizer = TfidfVectorizer(
                    analyzer=self.analyzer, ngram_range=self._ngram_range(language),
                    min_df=self.min_df if len(rows) >= self.min_df else 1, max_features=self.max_features,
                    sublinear_tf=self.sublinear_tf,
                ).fit([r["query"] for r in rows])
                self.vectorizers_[language] = vectorizer
                self.query_features_[language] = TfidfUnion(vectorizer)
                self.fitted_on_[language] = len(rows)
            X = vectorizer.transform([r["query"] for r in rows])
            self.n_encoded_ += X.shape[0]
            by_intent = {}
            for i, row in enumerate(rows):
                by_intent.setdefault(row.pop("intent"), []).append(i)
            for intent, idx in by_intent.items():
                entries = [{k: v for k, v in rows[i].items() if k != "query"} for i in idx]
                self._append((language, intent), X[idx], entries)
        self.group_tags_.update({str(g): str(t) for g, t in (group_tags or {}).items()})
        return self

    def _append(self, key, X, entries):
        part = self.parts_.get(key)
        if part is None:
            self.parts_[key] = {"XT": X.T.tocsr(), "entries": entries}
        else:
            part["XT"] = sp.hstack([part["XT"], X.T], format="csr")
            part["entries"].extend(entries)

    def _check_fitted(self):
        if not getattr(self, "fitted_", False):
            raise NotFittedError("This ReplyIndex is not fitted yet; call 'fit' or 'load' first.")

    # -- reading ------------------------------------------------------------------
    @property
    def n_rows(self):
        """Number of indexed replies."""
        return sum(part["XT"].shape[1] for part in getattr(self, "parts_", {}).values())

    def counts(self):
        """``{language: {intent: n_rows}}``."""
        out = {}
        for (language, intent), part in sorted(self.parts_.items()):
            out.setdefault(language, {})[intent] = part["XT"].shape[1]
        return out

    def groups(self):
        """Set of groups with at least one row."""
        return {e["group"] for part in self.parts_.values() for e in part["entries"]}

    def search(self, text, *, language=None, intent=ANY_INTENT, k=3):
        """Return the replies whose customer messages are nearest to ``text``.

        Parameters
        ----------
        text : str
            A (masked) customer message.
        language : str, optional
            Only replies of this language are searched; detected from ``text`` when blank.
        intent : str or None
            Only this intent's partition is searched; ``None`` searches every intent of
            the language. An intent with no partition yields no replies.
        k : int

        Returns
        -------
        list of dict
            ``{"text", "source", "group", "intent", "quality", "similarity"}``, most
            similar first; only positive similarities.
        """
        self._check_fitted()
        language = normalize_language(language, text)
        vectorizer = self.vectorizers_.get(language)
        if vectorizer is None or k <= 0 or not str(text or "").strip():
            return []
        if intent is None:
            keys = [key for key in self.parts_ if key[0] == language]
        else:
            keys = [(language, str(intent))] if (language, str(intent)) in self.parts_ else []
        if not keys:
            return []
        values, features, _ = self.query_features_[language].rows([str(text)])
        if not len(features):
            return []
        candidates = []
        for key in keys:
            scores = _similarities(features, values, self.parts_[key]["XT"])
            n_take = min(len(scores), max(k * 8, 16))
            top = np.argpartition(-scores, n_take - 1)[:n_take] if n_take < len(scores) else np.arange(len(scores))
            top = top[scores[top] > 0]
            candidates.extend(zip(scores[top].tolist(), repeat(key), top.tolist()))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        results, seen = [], set()
        for score, key, i in candidates:
            entry = self.parts_[key]["entries"][i]
            reply = entry["reply"]  # masked by fit/update and again by load
            if self.dedupe:
                dedupe_key = _dedupe_key(reply)
                if dedupe_key in seen:
                    continue
                seen.add(dedupe_key)
            results.append({
                "text": reply,
                "source": entry["source"],
                "group": entry["group"],
                "intent": key[1],
                "quality": entry["quality"],
                "similarity": round(min(score, 1.0), 4),
            })
            if len(results) == k:
                break
        return results

    # -- persistence --------------------------------------------------------------
    def save(self, path, manifest=None):
        """Write the index as an artifact directory (atomic replace).

        Parameters
        ----------
        path : str or Path
        manifest : dict, optional
            Extra manifest fields (watermarks, counts of the build).

        Returns
        -------
        Path
        """
        self._check_fitted()
        languages = sorted(self.vectorizers_)

        def write_files(directory):
            for language in languages:
                keys = sorted(key for key in self.parts_ if key[0] == language)
                blocks = [self.parts_[key]["XT"].T for key in keys]
                n_features = len(self.vectorizers_[language].idf_)
                X = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_features))
                entries = [dict(e, intent=key[1]) for key in keys for e in self.parts_[key]["entries"]]
                sp.save_npz(directory / f"vectors_{language}.npz", X, compressed=True)
                _write_json(directory / f"entries_{language}.json", entries)
                _write_json(directory / f"vocab_{language}.json", vectorizer_state(self.vectorizers_[language]))
            _write_json(directory / "groups.json", self.group_tags_)

        full = {
            "task": TASK,
            "backend": BACKEND,
            "params": {
                "ngram_range": {lang: list(self._ngram_range(lang)) for lang in languages},
                "analyzer": self.analyzer,
                "min_df": self.min_df,
                "max_features": self.max_features,
                "sublinear_tf": self.sublinear_tf,
                "dedupe": self.dedupe,
            },
            "languages": languages,
            "n_rows": self.n_rows,
            "n_groups": len(self.group_tags_),
            "counts": self.counts(),
            "fitted_on": self.fitted_on_,
            **(manifest or {}),
        }
        return artifacts.write_artifact(path, write_files, full)

    @classmethod
    def load(cls, path):
        """Load an index written by :meth:`save`, after verifying every file's sha256.

        Raises
        ------
        ml.artifacts.ArtifactError
            When the directory is missing, incomplete, tampered with or not a reply index.
        """
        path = Path(path)
        manifest = artifacts.read_manifest(path, known_backends=(BACKEND,))
        if manifest["task"] != TASK:
            raise artifacts.ArtifactError(f"{path} is a {manifest['task']!r} artifact, not a {TASK}")
        params = manifest.get("params") or {}
        index = cls(
            ngram_range={k: tuple(v) for k, v in (params.get("ngram_range") or {}).items()},
            analyzer=params.get("analyzer", "char_wb"),
            min_df=params.get("min_df", 1),
            max_features=params.get("max_features"),
            sublinear_tf=params.get("sublinear_tf", True),
            dedupe=params.get("dedupe", True),
        )
        index._reset()
        try:
            for language in manifest.get("languages") or []:
                if not _SAFE.sub("", language) == language:
                    raise artifacts.ArtifactError(f"{path}: bad language code {language!r}")
                vectorizer = vectorizer_from_state(_read_json(path / f"vocab_{language}.json"))
                X = sp.load_npz(path / f"vectors_{language}.npz").tocsr()
                entries = _read_json(path / f"entries_{language}.json")
                if X.shape[0] != len(entries) or X.shape[1] != len(vectorizer.idf_):
                    raise artifacts.ArtifactError(f"{path}: vectors and entries of {language!r} do not match")
                index.vectorizers_[language] = vectorizer
                index.query_features_[language] = TfidfUnion(vectorizer)
                by_intent = {}
                for i, entry in enumerate(entries):
                    by_intent.setdefault(entry.pop("intent", ""), []).append(i)
                    # masked again with today's rules (the index may predate a rule), once, not per search
                    entry["reply"] = mask_pii(str(entry["reply"]))
                for intent, idx in by_intent.items():
                    index.parts_[(language, intent)] = {"XT": X[idx].T.tocsr(), "entries": [entries[i] for i in idx]}
            index.group_tags_ = {str(k): str(v) for k, v in _read_json(path / "groups.json").items()}
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, artifacts.ArtifactError):
                raise
            raise artifacts.ArtifactError(f"{path}: malformed reply index: {exc}") from exc
        index.fitted_on_ = dict(manifest.get("fitted_on") or {})
        index.manifest_ = manifest
        index.fitted_ = True
        return index


def _write_json(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
