"""``ensemble`` backend: weighted average of the probabilities of sub-backends.

The member weights (and a temperature that calibrates the averaged probabilities) are fit
on out-of-fold predictions of the *training* data (stacking), never on the data the model
is evaluated on.
"""

import numpy as np

from ml.base import CONFIG, TextClassifier, cv_folds, read_json, write_json
from ml.language import detect_language
from ml.seed import resolve_seed
from ml.stacking import fit_weights, log_loss, pool, simplex_grid, temper  # noqa: F401  (simplex_grid re-exported)

MEMBERS_DIR = "members"
MEMBER_LOAD_OPTIONS = {"transformer": "all", "embedding": ("inference_dtype",)}  # load options a member takes
# members when ``backends="auto"``: English uses the packaged English sentence encoder;
# Chinese never does: jieba word + character TF-IDF next to a small BERT trained from scratch
AUTO_BACKENDS = {"en": ("linear", "embedding"), "zh": ("linear", "transformer")}
# thresholds ``cascade="auto"`` tries, lowest first (the lowest lets the first member answer most texts)
CASCADE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99)


class EnsembleClassifier(TextClassifier):
    """Weighted average of the class probabilities of several backends (stacking).

    Parameters
    ----------
    task : {"intent", "sentiment"}
    backends : sequence of str or "auto"
        Sub-backends (a backend may appear twice with different ``member_params``).
        ``"auto"``: ``linear`` + ``embedding`` for English; for Chinese (no Chinese
        checkpoint is packaged) ``linear`` (jieba words + characters) + a ``transformer``
        trained from scratch.
    weights : "cv", None or sequence of float
        ``"cv"`` (default): fit the weights on the simplex (step 0.05) to minimise the
        log-loss of out-of-fold probabilities from ``cv``-fold cross-validation on the
        training data; ``None``: equal weights; or one weight per member.
    cv : int
        Folds for the out-of-fold probabilities. A ``transformer`` member is not refit per
        fold: its out-of-fold rows are its own held-out early-stopping split.
    calibrate : bool
        Also fit a temperature on the averaged out-of-fold probabilities (with
        ``weights="cv"``; each member is always temperature-calibrated before weighting).
    member_params : dict or list, optional
        ``{backend: {param: value}}``, or one dict per member in order.
    cascade : "auto", float or None
        Let the first member (the cheap ``linear`` one in ``"auto"``) answer alone the texts where
        its calibrated top probability reaches a threshold; the other members run only for the
        rest. ``"auto"`` picks the lowest of :data:`CASCADE_THRESHOLDS` whose out-of-fold accuracy
        is within ``cascade_tolerance`` of the whole ensemble's (none: every member runs for
        every text); a float is that threshold; ``None`` turns it off. A text answered early gets
        the first member's calibrated probabilities.
    cascade_tolerance : float
        The out-of-fold accuracy (a fraction) ``"auto"`` may give up for speed.
    random_state : int or None
    """

    backend = "ensemble"

    def __init__(self, task="intent", backends="auto", weights="cv", cv=5, calibrate=True,
                 member_params=None, cascade="auto", cascade_tolerance=0.0005, random_state=None):
        self.task = task
        self.backends = backends
        self.weights = weights
        self.cv = cv
        self.calibrate = calibrate
        self.member_params = member_params
        self.cascade = cascade
        self.cascade_tolerance = cascade_tolerance
        self.random_state = random_state

    def _member_specs(self, texts):
        backends, params = self.backends, self.member_params
        if isinstance(backends, str) and backends == "auto":
            language = detect_language(texts)
            backends = AUTO_BACKENDS[language]
        backends = list(backends)
        if not backends or "ensemble" in backends:
            raise ValueError("backends must name at least one non-ensemble backend")
        if isinstance(params, (list, tuple)):
            if len(params) != len(backends):
                raise ValueError("member_params as a list needs one dict per backend")
            per_member = [dict(p or {}) for p in params]
        else:
            per_member = [dict((params or {}).get(b, {})) for b in backends]
        return list(zip(backends, per_member))

    def _fixed_weights(self, n):
        weights = np.ones(n) if self.weights is None else np.asarray(self.weights, float)
        if len(weights) != n or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError("weights must be non-negative, one per member, not all zero")
        return weights / weights.sum()

    def _fit(self, texts, y):
        from ml import build

        seed = resolve_seed(self.random_state)
        labels = self.classes_[y]
        specs = self._member_specs(texts)
        fit_cv = isinstance(self.weights, str)
        if fit_cv and self.weights != "cv":
            raise ValueError(f"weights must be 'cv', None or a sequence, not {self.weights!r}")
        if not fit_cv:
            self._fixed_weights(len(specs))
        if not (self.cascade is None or self.cascade == "auto"
                or (isinstance(self.cascade, (int, float)) and 0 < self.cascade <= 1)):
            raise ValueError(f"cascade must be 'auto', a threshold in (0, 1] or None, not {self.cascade!r}")
        self.members_, oofs = [], []
        for backend, params in specs:
            member = build(self.task, backend, **{"random_state": self.random_state, **params})
            if fit_cv:
                oof = member.fit_oof(texts, labels, cv=self.cv, random_state=seed)
                # members see the full label set, but map columns defensively
                full = np.full((len(texts), len(self.classes_)), np.nan)
                full[:, np.searchsorted(self.classes_, member.classes_)] = oof
                oofs.append(full)
            else:
                member.fit(texts, labels)
            self.members_.append(member)
        self.temperature_ = 1.0
        self.member_temperatures_ = np.ones(len(specs))
        self.oof_ = {}
        self.cascade_threshold_ = None if self.cascade in (None, "auto") else float(self.cascade)
        if not fit_cv:
            self.weights_ = self._fixed_weights(len(specs))
            return
        rows = np.all([~np.isnan(p).any(axis=1) for p in oofs], axis=0)
        if rows.sum() < 2 or not cv_folds(y, self.cv):
            self.weights_ = np.full(len(specs), 1 / len(specs))  # too little data to fit weights
            return
        oofs = [p[rows] for p in oofs]
        weights, temperature, member_t, _ = fit_weights(oofs, y[rows])
        self.weights_ = weights
        self.member_temperatures_ = np.asarray(member_t)
        if self.calibrate:
            self.temperature_ = temperature
        mixed = pool(oofs, weights, member_t, self.temperature_)
        self.oof_ = {
            "n": int(rows.sum()), "log_loss": log_loss(mixed, y[rows]),
            "accuracy": float(np.mean(mixed.argmax(1) == y[rows])),
            "member_accuracy": [float(np.mean(p.argmax(1) == y[rows])) for p in oofs],
        }
        if self.cascade == "auto":
            self.cascade_threshold_ = self._fit_cascade(oofs[0], mixed, y[rows])

    def _fit_cascade(self, first_oof, mixed, y):
        """The lowest threshold at which the first member answering alone costs at most
        ``cascade_tolerance`` of out-of-fold accuracy (``None``: no threshold does)."""
        if self.weights_[0] == 0 or np.count_nonzero(self.weights_) < 2:
            return None
        first = temper(first_oof, self.member_temperatures_[0])
        full = float(np.mean(mixed.argmax(1) == y))
        for threshold in CASCADE_THRESHOLDS:
            early = first.max(axis=1) >= threshold
            accuracy = float(np.mean(np.where(early, first.argmax(1), mixed.argmax(1)) == y))
            if accuracy >= full - self.cascade_tolerance:
                self.oof_["cascade"] = {"threshold": threshold, "early_share": float(early.mean()),
                                        "accuracy": accuracy}
                return threshold
        return None

    def _predict_proba(self, texts):
        threshold = getattr(self, "cascade_threshold_", None)
        if threshold is None:
            return self._mix(texts)
        first = temper(self.members_[0].predict_proba(texts), self.member_temperatures_[0])
        rest = np.flatnonzero(first.max(axis=1) < threshold)
        proba = first  # a text the first member is sure of: its calibrated probabilities
        if len(rest):
            proba[rest] = self._mix([texts[i] for i in rest], first=first[rest])
        return proba

    def _mix(self, texts, first=None):
        """The calibrated weighted average of the members (``first``: the first member's
        tempered probabilities of ``texts``, already computed)."""
        proba = np.zeros((len(texts), len(self.classes_)))
        for i, (weight, t, member) in enumerate(zip(self.weights_, self.member_temperatures_, self.members_)):
            if weight > 0:
                proba += weight * (first if i == 0 and first is not None else temper(member.predict_proba(texts), t))
        return temper(proba, self.temperature_)

    def _save_files(self, directory):
        members = []
        for i, member in enumerate(self.members_):
            name = f"{i}-{member.backend}"
            (directory / MEMBERS_DIR / name).mkdir(parents=True)
            member._save_files(directory / MEMBERS_DIR / name)
            members.append({"dir": name, "backend": member.backend, "params": member.get_params()})
        write_json(directory / CONFIG, {"members": members, "weights": self.weights_,
                                        "temperature": self.temperature_, "member_temperatures": self.member_temperatures_,
                                        "oof": self.oof_, "cascade_threshold": self.cascade_threshold_})

    @classmethod
    def _from_files(cls, directory, manifest, **options):
        from ml import backend_class

        model = cls(**manifest["params"])
        config = read_json(directory / CONFIG)
        model.members_ = []
        for member in config["members"]:
            sub_manifest = {**manifest, "backend": member["backend"], "params": member["params"]}
            member_cls = backend_class(member["backend"])
            accepted = MEMBER_LOAD_OPTIONS.get(member["backend"], ())
            member_options = {k: v for k, v in options.items() if accepted == "all" or k in accepted}
            model.members_.append(
                member_cls._from_files(directory / MEMBERS_DIR / member["dir"], sub_manifest, **member_options)
            )
        n = len(model.members_)
        model.weights_ = np.asarray(config.get("weights") or np.full(n, 1 / n), dtype=float)
        model.temperature_ = float(config.get("temperature", 1.0))
        model.member_temperatures_ = np.asarray(config.get("member_temperatures") or np.ones(n), dtype=float)
        model.oof_ = config.get("oof") or {}
        model.cascade_threshold_ = config.get("cascade_threshold")  # models before the cascade: None
        model._restore_common(manifest)
        return model
