"""``ensemble`` backend: the combined class probabilities of named member backends.

``combine="mean"`` averages the members' probabilities. ``combine="stack"`` fits a
logistic regression on the members' out-of-fold probabilities of the training texts
(``cross_val_predict``), so that it never learns from a prediction on a text the member
was trained on. The default members depend on the training texts' language: ``linear``
and ``embedding`` for English, ``linear`` alone for Chinese (no pretrained Chinese
checkpoint is packaged).
"""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from ml import artifacts
from ml.base import TextClassifier, read_json, write_json
from ml.language import detect_language

DEFAULT_MEMBERS = {"en": ("linear", "embedding"), "zh": ("linear",)}
COMBINERS = ("mean", "stack")
STACKER_FILE = "stacker.skops"
STACKER_TYPES = ("sklearn.linear_model._logistic.LogisticRegression", "numpy.float64", "numpy.int64",
                 "numpy.dtype", "numpy.ndarray")


class EnsembleClassifier(TextClassifier):
    """Averaged or stacked probabilities of member classifiers.

    Parameters
    ----------
    task : {"intent", "sentiment"}
    members : "auto" or sequence of str
        Backend names (``linear``, ``embedding``, ``transformer``); ``"auto"`` picks them by
        the language of the training texts.
    combine : {"mean", "stack"}
    member_params : dict or None
        ``{backend: {param: value}}`` hyperparameters of the members.
    random_state : int or None
    """

    backend = "ensemble"

    def __init__(self, task="intent", members="auto", combine="mean", member_params=None, random_state=None):
        self.task = task
        self.members = members
        self.combine = combine
        self.member_params = member_params
        self.random_state = random_state

    def _member_names(self, texts):
        if self.members == "auto":
            return list(DEFAULT_MEMBERS[detect_language(texts)])
        names = [self.members] if isinstance(self.members, str) else list(self.members)
        if not names or "ensemble" in names:
            raise ValueError(f"members must name one or more non-ensemble backends, not {self.members!r}")
        return names

    def _fit(self, texts, y):
        from ml import build

        if self.combine not in COMBINERS:
            raise ValueError(f"combine must be one of {COMBINERS}, not {self.combine!r}")
        params = self.member_params or {}
        members = [build(self.task, name, random_state=self.random_state, **params.get(name, {}))
                   for name in self._member_names(texts)]
        self.stacker_ = None
        if self.combine == "stack":
            from sklearn.model_selection import StratifiedKFold, cross_val_predict

            smallest = int(np.unique(y, return_counts=True)[1].min())
            if smallest < 2:
                raise ValueError("stacking needs at least two training texts of every class")
            folds = StratifiedKFold(min(5, smallest), shuffle=True, random_state=self.random_state)
            oof = np.hstack([cross_val_predict(clone(m), texts, y, cv=folds, method="predict_proba")
                             for m in members])
            self.stacker_ = LogisticRegression(max_iter=1000).fit(oof, y)
        self.members_ = [member.fit(texts, y) for member in members]

    def _predict_proba(self, texts):
        probas = [member.predict_proba(texts) for member in self.members_]
        if self.stacker_ is not None:
            return self.stacker_.predict_proba(np.hstack(probas))
        return np.mean(probas, axis=0)

    def _save_files(self, directory):
        names = []
        for i, member in enumerate(self.members_):
            sub = directory / "members" / f"{i}-{member.backend}"
            sub.mkdir(parents=True)
            member._save_files(sub)
            write_json(sub / "member.json", member._manifest())
            names.append(sub.name)
        write_json(directory / "members.json", names)
        if self.stacker_ is not None:
            artifacts.skops_dump(self.stacker_, directory / STACKER_FILE)

    @classmethod
    def _load_files(cls, directory, manifest):
        from ml import backend_class

        model = cls._unfitted(manifest)
        model.members_ = []
        for name in read_json(directory / "members.json"):
            sub = directory / "members" / name
            member_manifest = read_json(sub / "member.json")
            if member_manifest["backend"] in ("ensemble", "quality"):
                raise artifacts.ArtifactError(f"{directory}: bad member backend {member_manifest['backend']!r}")
            model.members_.append(backend_class(member_manifest["backend"])._load_files(sub, member_manifest))
        has_stacker = (directory / STACKER_FILE).is_file()
        model.stacker_ = artifacts.skops_load(directory / STACKER_FILE, STACKER_TYPES) if has_stacker else None
        return model
