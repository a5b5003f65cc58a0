"""``ensemble`` backend: weighted average of the probabilities of sub-backends."""

import numpy as np

from ml.base import CONFIG, TextClassifier, read_json, write_json

MEMBERS_DIR = "members"


class EnsembleClassifier(TextClassifier):
    """Average of the class probabilities of several backends.

    Parameters
    ----------
    task : {"intent", "sentiment"}
    backends : sequence of str
        Sub-backends, default ``("linear", "embedding")``.
    weights : sequence of float, optional
        Weight of each member (default equal).
    member_params : dict, optional
        ``{backend: {param: value}}`` passed to each member.
    random_state : int or None
    """

    backend = "ensemble"

    def __init__(self, task="intent", backends=("linear", "embedding"), weights=None,
                 member_params=None, random_state=None):
        self.task = task
        self.backends = backends
        self.weights = weights
        self.member_params = member_params
        self.random_state = random_state

    def _weights(self):
        weights = np.ones(len(self.members_)) if self.weights is None else np.asarray(self.weights, float)
        if len(weights) != len(self.members_) or weights.sum() <= 0:
            raise ValueError("weights must be positive, one per backend")
        return weights / weights.sum()

    def _fit(self, texts, y):
        from ml import build

        if not self.backends or "ensemble" in self.backends:
            raise ValueError("backends must name at least one non-ensemble backend")
        params = self.member_params or {}
        labels = self.classes_[y]
        self.members_ = []
        for backend in self.backends:
            member_params = {"random_state": self.random_state, **params.get(backend, {})}
            self.members_.append(build(self.task, backend, **member_params).fit(texts, labels))
        self._weights()

    def _predict_proba(self, texts):
        proba = np.zeros((len(texts), len(self.classes_)))
        for weight, member in zip(self._weights(), self.members_):
            proba += weight * member.predict_proba(texts)
        return proba

    def _save_files(self, directory):
        members = []
        for i, member in enumerate(self.members_):
            name = f"{i}-{member.backend}"
            (directory / MEMBERS_DIR / name).mkdir(parents=True)
            member._save_files(directory / MEMBERS_DIR / name)
            members.append({"dir": name, "backend": member.backend, "params": member.get_params()})
        write_json(directory / CONFIG, {"members": members})

    @classmethod
    def _from_files(cls, directory, manifest, **options):
        from ml import backend_class

        model = cls(**manifest["params"])
        config = read_json(directory / CONFIG)
        model.members_ = []
        for member in config["members"]:
            sub_manifest = {**manifest, "backend": member["backend"], "params": member["params"]}
            member_cls = backend_class(member["backend"])
            member_options = options if member["backend"] == "transformer" else {}
            model.members_.append(
                member_cls._from_files(directory / MEMBERS_DIR / member["dir"], sub_manifest, **member_options)
            )
        model._restore_common(manifest)
        return model
