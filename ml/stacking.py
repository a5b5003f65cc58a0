"""Stacking of probabilities (member temperatures, simplex weights, a last temperature; or a
geometric pool) and k-nearest-neighbour votes: shared by the ``ensemble`` backend and the
neighbour blends of the ``embedding`` and ``linear`` backends; and the temperature-scaled
softmax that turns a linear head's decision scores into probabilities."""

import itertools

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax

WEIGHT_STEP = 0.05
NEIGHBOUR_FLOOR = 1e-4  # weight every class gets, so a class none of the neighbours has is not impossible
POOLINGS = ("arithmetic", "geometric")  # how fit_blend may pool a model and its neighbours
PROBA_FLOOR = 1e-12  # probabilities are clipped here before a logarithm
NEIGHBOUR_BLOCK = 1024  # texts compared with the stored rows at a time (bounds the similarity matrix)


def simplex_grid(n_members, step=WEIGHT_STEP):
    """Every weight vector on the simplex with coordinates multiple of ``step``."""
    units = int(round(1 / step))
    if n_members == 1:
        return np.ones((1, 1))
    rows = [c + (units - sum(c),) for c in itertools.product(range(units + 1), repeat=n_members - 1)
            if sum(c) <= units]
    return np.asarray(rows, dtype=float) / units


def log_loss(proba, y):
    """Mean negative log-likelihood of the true classes."""
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], PROBA_FLOOR, None))))


def temper(proba, temperature):
    """Calibrate probabilities with a temperature: ``p ** (1 / T)``, renormalised."""
    if temperature == 1.0:
        return proba
    logp = np.log(np.clip(proba, PROBA_FLOOR, None)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def pool(probas, weights, member_temperatures, temperature):
    """``temper(sum of weight x temper(member proba, member T), T)``: the stacked average."""
    return temper(sum(w * temper(p, t) for w, p, t in zip(weights, probas, member_temperatures)), temperature)


TEMPERATURES = np.exp(np.linspace(np.log(0.1), np.log(5.0), 101))


def fit_temperature(proba, y):
    """Temperature (grid) minimising the log-loss of ``temper(proba, T)`` (logits: :func:`fit_logit_temperature`)."""
    losses = [log_loss(temper(proba, t), y) for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


def scores_to_logits(scores):
    """Decision scores as one logit per class: a binary head's one column ``d`` becomes ``(0, d)``."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.shape[1] == 1:
        scores = np.column_stack([np.zeros(len(scores)), scores[:, 0]])
    return scores


def softmax(logits, axis=1):
    """Row softmax in plain NumPy (scipy's costs ~40 us a call: a tenth of a one-text prediction)."""
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def fit_logit_temperature(logits, y):
    """Temperature ``T`` minimising the log-loss of ``softmax(logits / T)`` (Guo et al., 2017)."""
    rows = np.arange(len(y))

    def loss(log_t):
        return -log_softmax(logits / np.exp(log_t), axis=1)[rows, y].mean()

    return float(np.exp(minimize_scalar(loss, bounds=(-6.0, 4.0), method="bounded").x))


def fit_weights(oofs, y, step=WEIGHT_STEP):
    """Stacking weights from out-of-fold probabilities.

    Each member is first calibrated with its own temperature (a member whose probabilities
    are under-confident would simply be dropped by a log-loss fit on raw probabilities); then
    the weights on the simplex minimise the log-loss of the average of the calibrated
    probabilities, and a last temperature calibrates the average.

    Parameters
    ----------
    oofs : list of ndarray (n, n_classes)
        Out-of-fold probabilities of each member (rows without NaN only).
    y : ndarray of int
        Class indices.

    Returns
    -------
    (weights, temperature, member temperatures, oof log-loss)
    """
    member_t = [fit_temperature(p, y) for p in oofs]
    oofs = [temper(p, t) for p, t in zip(oofs, member_t)]
    best = (np.inf, None)
    for weights in simplex_grid(len(oofs), step):
        loss = log_loss(sum(w * p for w, p in zip(weights, oofs)), y)
        if loss < best[0] - 1e-12:
            best = (loss, weights)
    weights = best[1]
    mixed = sum(w * p for w, p in zip(weights, oofs))
    temperature = fit_temperature(mixed, y)
    return weights, temperature, member_t, log_loss(temper(mixed, temperature), y)


def neighbour_proba(bank, bank_labels, X, n_classes, k, temperature):
    """Class probabilities of ``X`` from the labels of its ``k`` most similar rows of ``bank``.

    Rows are unit vectors, so similarity is the dot product; a neighbour's vote is
    ``exp((similarity - best similarity) / temperature)``, and every class also gets
    :data:`NEIGHBOUR_FLOOR`. The products run in torch, on the encoder's threads: NumPy's BLAS
    would start threads of its own that keep spinning after the product and slow the next
    forward pass of the encoder (a one-text prediction took 3.5x as long).
    """
    import torch

    k = int(min(k, len(bank)))
    if k < 1:
        return np.full((len(X), n_classes), 1.0 / n_classes)
    bank_t = torch.from_numpy(np.ascontiguousarray(bank, dtype=np.float32)).T
    out = np.empty((len(X), n_classes))
    for start in range(0, len(X), NEIGHBOUR_BLOCK):
        block = torch.from_numpy(np.ascontiguousarray(X[start:start + NEIGHBOUR_BLOCK], dtype=np.float32))
        nearest, top = torch.topk(block @ bank_t, k, dim=1, sorted=False)  # half argpartition's time
        nearest, top = nearest.numpy(), top.numpy()
        votes = np.exp((nearest - nearest.max(axis=1, keepdims=True)) / temperature)
        cells = (np.arange(len(top))[:, None] * n_classes + bank_labels[top]).ravel()
        proba = np.bincount(cells, votes.ravel(), len(top) * n_classes).reshape(len(top), n_classes)
        proba += NEIGHBOUR_FLOOR
        out[start:start + len(top)] = proba / proba.sum(axis=1, keepdims=True)
    return out


def class_prototypes(X, y, per_class, random_state=0):
    """``(prototypes, labels)``: at most ``per_class`` unit vectors standing for each class's rows.

    A class with more distinct rows than ``per_class`` is summarised by the centres of a
    k-means of them (scikit-learn's ``KMeans``, k-means++ seeding, one run), each scaled back
    to unit length; a smaller class keeps its distinct rows. A neighbour search over the
    prototypes costs a fraction of one over every training row (40 a class: a third of
    BANKING77's 8,002 rows) and kept all of its gain in cross-validation (docs/benchmarks.md,
    rounds 15-16).
    """
    from sklearn.cluster import KMeans

    if int(per_class) < 1:
        raise ValueError(f"prototypes per class must be at least 1, not {per_class!r}")

    banks, labels = [], []
    for label in np.unique(y):
        rows = X[y == label]
        rows = rows[np.sort(np.unique(rows, axis=0, return_index=True)[1])]  # duplicates once, in order
        if len(rows) > per_class:
            rows = KMeans(n_clusters=int(per_class), n_init=1, random_state=random_state).fit(rows).cluster_centers_
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        banks.append(rows / norms)
        labels.append(np.full(len(rows), label, dtype=np.int64))
    if not banks:
        return np.zeros((0, X.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.concatenate(banks).astype(np.float32), np.concatenate(labels)


def geometric_pool(probas, weights):
    """``softmax(sum of weight x log proba)``: the log-linear (geometric) opinion pool.

    Unlike an average, a member can veto: a class it finds unlikely stays unlikely, whatever
    the others say. The weights need not sum to one; their sum acts as an inverse temperature,
    so the pool is calibrated by the fit of the weights themselves (:func:`fit_geometric_weights`).
    """
    return softmax(sum(w * np.log(np.clip(p, PROBA_FLOOR, None)) for w, p in zip(weights, probas)))


def fit_geometric_weights(probas, y):
    """Non-negative weights of :func:`geometric_pool` minimising the log-loss of the true classes (L-BFGS-B)."""
    logs = [np.log(np.clip(p, PROBA_FLOOR, None)) for p in probas]
    rows = np.arange(len(y))

    def loss(weights):
        return -log_softmax(sum(w * lp for w, lp in zip(weights, logs)), axis=1)[rows, y].mean()

    start = np.zeros(len(probas))
    start[0] = 1.0  # the first member alone: a member that tells nothing keeps weight 0
    return minimize(loss, start, method="L-BFGS-B", bounds=[(0.0, None)] * len(probas)).x


def check_pooling(pooling):
    """Raise ``ValueError`` unless ``pooling`` is one of :data:`POOLINGS`."""
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")


def fit_blend(oof_model, oof_votes, y, pooling="arithmetic"):
    """How to blend a model's probabilities with its neighbours' votes, from out-of-fold rows of both.

    ``pooling="arithmetic"``: ``{"weights", "temperatures", "temperature"}`` of :func:`fit_weights`;
    ``"geometric"``: ``{"pool": "geometric", "weights"}`` of :func:`fit_geometric_weights`.
    ``None`` when the votes get weight 0 (they add nothing). :func:`blend` applies it.
    """
    if pooling == "geometric":
        weights = fit_geometric_weights([oof_model, oof_votes], y)
        if weights[1] <= 1e-6:
            return None
        return {"pool": "geometric", "weights": [float(w) for w in weights]}
    check_pooling(pooling)
    weights, temperature, member_t, _ = fit_weights([oof_model, oof_votes], y)
    if weights[1] == 0:
        return None
    return {"weights": [float(w) for w in weights], "temperatures": [float(t) for t in member_t],
            "temperature": float(temperature)}


def blend(proba, votes, how):
    """A model's probabilities blended with the votes as ``how`` (:func:`fit_blend`) says: the calibrated
    weighted average, or the geometric pool (blends stored before ``"pool"`` existed are averages)."""
    if how.get("pool") == "geometric":
        return geometric_pool([proba, votes], how["weights"])
    return pool([proba, votes], how["weights"], how["temperatures"], how["temperature"])


def as_stored(bank):
    """``bank`` rounded to float16 as :func:`save_bank` stores it (float32 in memory), so a loaded
    model predicts exactly what the fitted one does."""
    return np.ascontiguousarray(np.asarray(bank).astype(np.float16), dtype=np.float32)


def save_bank(path, rows_key, bank, labels):
    """Write a neighbour bank as safetensors: float16 rows under ``rows_key``, int32 ``labels``."""
    from safetensors.numpy import save_file

    save_file({rows_key: bank.astype(np.float16), "labels": labels.astype(np.int32)}, str(path))


def load_bank(path, rows_key):
    """``(rows, labels)`` of :func:`save_bank` (float32, int64); safetensors holds tensors only, no code."""
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    return np.ascontiguousarray(tensors[rows_key], dtype=np.float32), tensors["labels"].astype(np.int64)
