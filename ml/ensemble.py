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
    random_state : int or None
    """

    backend = "ensemble"

    def __init__(self, task="intent", backends="auto", weights="cv", cv=5, calibrate=True,
                 member_params=None, random_state=None):
        self.task = task
        self.backends = backends
        self.weights = weights
        self.cv = cv
        self.calibrate = calibrate
        self.member_params = member_params
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

    def _predict_proba(self, texts):
        proba = np.zeros((len(texts), len(self.classes_)))
        for weight, t, member in zip(self.weights_, self.member_temperatures_, self.members_):
            if weight > 0:
                proba += weight * temper(member.predict_proba(texts), t)
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
                                        "oof": self.oof_})

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
        model._restore_common(manifest)
        return model
