"""Static token vectors distilled from a sentence-embedding checkpoint, as dense features for ``linear``.

The recipe is Model2Vec's (Tulkens & van Dongen, 2024): every token of the checkpoint's
vocabulary is passed through the encoder on its own (``[CLS] token [SEP]``, mean of the output
states), the table is reduced to ``dims`` components with PCA, and a text's vector is the mean
of its tokens' rows, L2-normalised. Unlike the contextual encoder, a prediction needs no neural
network: a tokenizer (Rust) and a table lookup, so ``linear`` keeps its speed. The vectors give
words the TF-IDF vocabulary has never seen (synonyms, rephrasings) a place near the ones it has:
+0.9 points on BANKING77's training fold in 5-fold cross-validation (docs/benchmarks.md,
round 11).

Fitting then adapts the table to the training texts (``adapt``, round 12): the encoder reads
them (at most 10,000 texts and 200,000 tokens), a token seen there gets the mean of its output
states in those contexts (the "aggregated contextual" static vectors of Bommasani et al., 2020),
and every other token its isolated row carried into the same space by a linear map fit by least
squares on the seen tokens. No labels are used, and only the texts the model is fit on. +0.45
points more in the same cross-validation; predicting is unchanged. Last, a ridge regression
corrects the seen tokens' rows so that each sample text's mean row comes nearer its mean
contextual state (``refine``, round 13: +0.26 points more).

``model2vec`` itself is not used (its ``distill`` extra pins ``transformers<5.4``). The table
(~20 s on 2 CPU cores) is kept per process and on disk (``ML_CACHE_DIR``, default
``~/.cache/csplatform-ml``, ``.npy`` read with ``allow_pickle=False``), keyed by the weights' sha256.
"""

import functools
import hashlib
import json
import os
import tempfile
import threading
import warnings
import weakref
from collections import OrderedDict
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from ml.encoder import checkpoint_digest, default_checkpoint, resolve_checkpoint

RECIPE = 2  # bump when the table's recipe changes (the disk cache is keyed by it)
# At most this many tokens of the training texts adapt the table: bounds the encoder's pass at
# ~20 s on 2 cores whatever the texts' length (all 8,002 BANKING77 training texts: 113,689)
ADAPT_TOKENS = 200_000
CONTEXT_LENGTH = 128  # the encoder's max_length when it reads them
_TABLES = weakref.WeakValueDictionary()  # hash of a model's float16 table -> its float32 copy
_TABLES_LOCK = threading.Lock()
_CONTEXTS = OrderedDict()  # (checkpoint, int8?, hash of texts) -> contextual means: one encoding per sample
_CONTEXTS_LOCK = threading.Lock()


def cache_dir():
    """Where computed token tables are kept (``ML_CACHE_DIR``, default ``~/.cache/csplatform-ml``)."""
    return Path(os.environ.get("ML_CACHE_DIR") or Path.home() / ".cache" / "csplatform-ml")


def default_available():
    """Whether the packaged English checkpoint (and torch, to distil it) can be used."""
    try:
        import torch  # noqa: F401

        resolve_checkpoint(default_checkpoint())
    except (ImportError, ValueError):
        return False
    return True


def _distil(checkpoint, batch_size=1024):
    """(vocabulary size, hidden size) float32 table: each token's mean output state, on its own."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoTokenizer

    from ml.encoder import offline

    offline()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    model = AutoModel.from_pretrained(checkpoint, local_files_only=True).eval()
    n = len(tokenizer)
    table = np.zeros((n, model.config.hidden_size), dtype=np.float32)
    first = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    last = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    starts = tqdm(range(0, n, batch_size), desc="static token vectors (once per checkpoint)", unit="batch",
                  disable=None, leave=False)  # shown on a terminal only
    with torch.inference_mode():
        for start in starts:
            ids = torch.arange(start, min(start + batch_size, n))[:, None]
            # each token alone inside the model's special tokens: [CLS] t [SEP] for BERT, <s> t </s> for others
            parts = [ids]
            if first is not None:
                parts.insert(0, torch.full_like(ids, first))
            if last is not None:
                parts.append(torch.full_like(ids, last))
            inputs = torch.cat(parts, dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            table[start:start + len(ids)] = hidden.mean(1).numpy()
    return table


@functools.lru_cache(maxsize=2)
def token_table(checkpoint):
    """``(tokenizer JSON, table, weights sha256)`` of ``checkpoint``; computed once, then read from the disk cache.

    The table is the isolated tokens' states at the checkpoint's hidden size (not reduced yet).
    """
    from transformers import AutoTokenizer

    checkpoint = resolve_checkpoint(checkpoint)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    hidden = json.loads((Path(checkpoint) / "config.json").read_text()).get("hidden_size")
    shape = (len(tokenizer), hidden)
    digest = checkpoint_digest(checkpoint)
    path = cache_dir() / f"static-{digest[:16]}-r{RECIPE}.npy"
    table = None
    if path.is_file():
        try:
            table = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            table = None
        if table is not None and (table.shape != shape or table.dtype != np.float32):
            table = None
    if table is None:
        table = _distil(checkpoint)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as tmp:
                np.save(tmp, table, allow_pickle=False)
            os.replace(tmp.name, path)
            for stale in path.parent.glob(f"static-{digest[:16]}-r*.npy"):  # older recipes' tables
                if stale != path:
                    stale.unlink(missing_ok=True)
        except OSError as exc:  # a read-only home: train on, recompute next time
            warnings.warn(f"static token vectors not cached ({exc}); set ML_CACHE_DIR to a writable directory",
                          stacklevel=2)
    table.setflags(write=False)
    return tokenizer.backend_tokenizer.to_str(), table, digest


class Contexts(NamedTuple):
    """What the encoder saw in a sample of texts."""

    seen: np.ndarray  # the token ids that occur in the texts, sorted
    means: np.ndarray  # (len(seen), hidden) float32: each seen token's mean output state there
    averaging: sp.csr_matrix  # (n_texts, len(seen)): row i averages the tokens of text i
    text_means: np.ndarray  # (n_texts, hidden) float32: the mean output state of each text's tokens


def _grouped_sums(groups, values, n_groups):
    """``out[g] = sum of values[i] where groups[i] == g`` (float64), as one sparse product (10x ``np.add.at``)."""
    indicator = sp.csr_matrix((np.ones(len(groups)), (groups, np.arange(len(groups)))),
                              shape=(n_groups, len(groups)))
    return np.asarray(indicator @ values.astype(np.float64))


def contextual_states(checkpoint, texts, batch_size=64, quantize=False):
    """:class:`Contexts` of ``texts`` (special tokens left out); ``quantize``: the encoder in int8 on a CPU.

    Kept for the last few samples, so fits on the same texts (a C grid's folds) encode them once.
    """
    from ml.encoder import SentenceEncoder, pick_device

    quantize = bool(quantize) and pick_device().type == "cpu"  # a GPU reads them at full precision
    key = (str(checkpoint), quantize, hashlib.blake2b("\x00".join(texts).encode(), digest_size=16).hexdigest())
    with _CONTEXTS_LOCK:
        if key in _CONTEXTS:
            _CONTEXTS.move_to_end(key)
            return _CONTEXTS[key]
    encoder = SentenceEncoder(checkpoint, max_length=CONTEXT_LENGTH, quantize=quantize)
    slot = np.full(len(encoder.tokenizer), -1, dtype=np.int64)  # token id -> its row of ``sums``, once seen
    sums = np.zeros((256, encoder.dim))  # rows for the seen tokens only (grown by doubling), not the vocabulary
    text_sums = np.zeros((len(texts), encoder.dim))
    rows, ids = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    n_slots = 0
    for batch_rows, batch_ids, states in encoder.token_states(texts, batch_size):
        present, group = np.unique(batch_ids, return_inverse=True)
        new = present[slot[present] < 0]
        slot[new] = np.arange(n_slots, n_slots + len(new))
        n_slots += len(new)
        if n_slots > len(sums):
            sums = np.vstack([sums, np.zeros((max(n_slots, 2 * len(sums)) - len(sums), encoder.dim))])
        sums[slot[present]] += _grouped_sums(group, states, len(present))
        present, group = np.unique(batch_rows, return_inverse=True)
        text_sums[present] += _grouped_sums(group, states, len(present))
        rows.append(batch_rows)
        ids.append(batch_ids)
    rows, ids = np.concatenate(rows), np.concatenate(ids)
    seen, column = np.unique(ids, return_inverse=True)
    counts = np.bincount(column, minlength=len(seen))
    per_text = np.bincount(rows, minlength=len(texts))
    averaging = sp.csr_matrix((1.0 / per_text[rows], (rows, column)), shape=(len(texts), len(seen)))
    result = Contexts(seen, (sums[slot[seen]] / counts[:, None]).astype(np.float32), averaging,
                      (text_sums / np.maximum(per_text, 1)[:, None]).astype(np.float32))
    with _CONTEXTS_LOCK:
        _CONTEXTS[key] = result
        while len(_CONTEXTS) > 4:
            _CONTEXTS.popitem(last=False)
    return result


def sentence_fit(contexts, ridge):
    """The seen tokens' rows, corrected so that a text's mean row is nearer its mean contextual state.

    The contextual means leave out how a token's state depends on its neighbours; the
    correction ``D`` minimises ``|A (M + D) - E|^2 + ridge |D|^2`` (``A``: the texts' averaging
    matrix, ``M``: the means, ``E``: the texts' mean states), the sentence-level fit of
    Model2Vec's "tokenlearn" done in closed form, in whichever form has the smaller system:
    ``D = A^T (A A^T + ridge I)^-1 (E - A M)`` (one equation per text) or, the same matrix,
    ``D = (A^T A + ridge I)^-1 A^T (E - A M)`` (one per seen token: 2,236 for all 8,002 of
    BANKING77's training texts).
    """
    from scipy.linalg import solve

    A, M = contexts.averaging, contexts.means.astype(np.float64)
    residual = contexts.text_means - A @ M
    dual = A.shape[0] <= A.shape[1]
    gram = (A @ A.T if dual else A.T @ A).toarray()
    gram[np.diag_indices_from(gram)] += ridge
    correction = A.T @ solve(gram, residual, assume_a="pos") if dual else \
        solve(gram, A.T @ residual, assume_a="pos")
    return (M + correction).astype(np.float32)


def adaptation_sample(lengths, limit, budget=ADAPT_TOKENS, seed=0):
    """Indices of the texts that adapt the table: all of them, in order, when there are at most
    ``limit`` with at most ``budget`` tokens in all; otherwise a fixed random sample, as many as
    fit both bounds (at least one), sorted.

    ``lengths``: each text's token count.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) <= limit and lengths.sum() <= budget:
        return np.arange(len(lengths))
    order = np.random.RandomState(seed).permutation(len(lengths))[:int(limit)]
    keep = max(1, int(np.searchsorted(np.cumsum(lengths[order]), budget, side="right")))
    return np.sort(order[:keep])


def adapted_table(table, seen, means):
    """Rows ``seen`` become ``means``; the others are mapped into their space by least squares.

    The map is affine, ``[row, 1] @ W``, fit on the seen tokens' (isolated row, contextual
    mean) pairs. With fewer than twice as many seen tokens as it has coefficients, the table
    is returned as it is: too few pairs to fit it.
    """
    if len(seen) < 2 * (table.shape[1] + 1):
        return table
    design = np.hstack([table, np.ones((len(table), 1), dtype=table.dtype)])
    weights = np.linalg.lstsq(design[seen].astype(np.float64), means.astype(np.float64), rcond=None)[0]
    out = design @ weights.astype(np.float32)
    out[seen] = means
    return out


class StaticVectors(TransformerMixin, BaseEstimator):
    """Texts -> ``weight`` x the L2-normalised mean of their tokens' static vectors (dense float32).

    Parameters
    ----------
    checkpoint : str or None
        Local Hugging Face checkpoint directory; ``None``: the packaged all-MiniLM-L6-v2.
    dims : int
        PCA components kept (Model2Vec's default, 256).
    weight : float
        Scale of the block next to the L2-normalised TF-IDF blocks (1.5: chosen by 5-fold CV
        on BANKING77's training fold, among 0.5, 1, 1.5, 2).
    adapt : int
        At most this many of the texts the block is fit on, and at most :data:`ADAPT_TOKENS`
        tokens in all (a fixed random sample of larger sets, :func:`adaptation_sample`), adapt
        the table to them (:func:`adapted_table`); 0: the isolated table as it is. The encoder
        reads BANKING77's 8,002 training texts (113,689 tokens) in 12-19 s on 2 cores. All texts
        rather than a sample of 2,000 gained 0.09-0.14 points in three rounds of 5-fold CV
        (docs/benchmarks.md, rounds 12, 13 and 20); the bounds cap the cost on large sets.
    refine : float
        Ridge of the sentence-level correction of the seen tokens' rows (:func:`sentence_fit`);
        0: the contextual means as they are. 1.0: chosen by 5-fold CV on BANKING77's training
        fold among 0.003 to 10 (docs/benchmarks.md, round 13).
    quantize : bool
        On a CPU, the encoder reads the texts with int8 weights (:func:`ml.encoder.quantize_int8`):
        a quarter less fit time on 2 cores, the same 5-fold CV accuracy (round 21).
    """

    adapt = 0  # blocks saved before ``adapt`` existed were not adapted
    refine = 0.0  # nor refined
    quantize = False  # nor read in int8

    def __init__(self, checkpoint=None, dims=256, weight=1.5, adapt=10000, refine=1.0, quantize=True):
        self.checkpoint = checkpoint
        self.dims = dims
        self.weight = weight
        self.adapt = adapt
        self.refine = refine
        self.quantize = quantize

    def fit(self, texts, y=None):
        from sklearn.decomposition import PCA

        checkpoint = self.checkpoint or default_checkpoint()
        self.tokenizer_json_, table, self.checkpoint_digest_ = token_table(checkpoint)
        for cached in ("_tokenizer", "_table"):  # a refit's tokenizer and table are rebuilt from it
            self.__dict__.pop(cached, None)
        texts = [str(text) for text in texts]
        self.adapted_tokens_ = 0
        if self.adapt and texts:
            # what the encoder reads of each text: at most 126 tokens (128 with [CLS] and [SEP])
            lengths = np.minimum([len(ids) for ids in self._token_ids(texts)], CONTEXT_LENGTH - 2)
            sample = adaptation_sample(lengths, int(self.adapt), ADAPT_TOKENS)
            if len(sample) < len(texts):
                texts = [texts[i] for i in sample]
            contexts = contextual_states(checkpoint, texts, quantize=self.quantize)
            adapted = adapted_table(table, contexts.seen, contexts.means)
            if adapted is not table:
                self.adapted_tokens_ = len(contexts.seen)
                if self.refine:  # the map of the unseen tokens stays the one the means define
                    adapted[contexts.seen] = sentence_fit(contexts, float(self.refine))
            table = adapted
        if self.dims and self.dims < table.shape[1]:
            table = PCA(n_components=int(self.dims), svd_solver="full", random_state=0).fit_transform(table)
        self.vectors_ = np.ascontiguousarray(table, dtype=np.float16)  # half the artifact; rows are cast back when read
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        for cached in ("_tokenizer", "_table"):  # rebuilt when first needed (a tokenizers object is not storable)
            state.pop(cached, None)
        return state

    def _encoder(self):
        tokenizer = getattr(self, "_tokenizer", None)
        if tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(self.tokenizer_json_)
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return tokenizer

    def _float_table(self):
        """The table in float32 (a sparse float16 product is 2.5x slower), one copy per process.

        Blocks with equal tables (a model and its reloaded copies, models fit on the same texts)
        share one float32 copy (31 MB for MiniLM), found by a hash of the stored bytes.
        """
        table = getattr(self, "_table", None)
        if table is None:
            key = hashlib.blake2b(np.ascontiguousarray(self.vectors_).data, digest_size=16).hexdigest()
            with _TABLES_LOCK:
                table = _TABLES.get(key)
                if table is None:
                    table = np.ascontiguousarray(self.vectors_, dtype=np.float32)
                    table.setflags(write=False)
                    _TABLES[key] = table
            self._table = table
        return table

    def _token_ids(self, texts):
        """Each text's token ids (no special tokens, no truncation)."""
        if not texts:
            return []
        tokenizer = self._encoder()
        encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)  # no offsets: faster
        return [encoding.ids for encoding in encode(texts, add_special_tokens=False)]

    def transform(self, texts):
        return self.features(texts)

    def features(self, texts):
        """:meth:`transform` without scikit-learn's output wrapper (the compiled inference calls it)."""
        ids = self._token_ids([str(text) for text in texts])
        table = self._float_table()
        if len(ids) == 1:  # one text (most predictions): a plain gather
            out = table[ids[0]].mean(0, keepdims=True) if ids[0] else np.zeros((1, table.shape[1]), np.float32)
        else:  # the mean of each text's rows as one sparse (texts x vocabulary) product
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
            averaging = sp.csr_matrix(
                (np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32), flat,
                 np.concatenate([[0], np.cumsum(lengths)])), shape=(len(ids), table.shape[0]))
            out = np.asarray(averaging @ table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out * (np.float32(self.weight) / norms)

    def unit_features(self, texts):
        """:meth:`features` at unit length (the block without its ``weight``): for cosine similarities."""
        return self.features(texts) / np.float32(self.weight)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"static{i}" for i in range(self.vectors_.shape[1])], dtype=object)


def static_step(union):
    """The fitted :class:`StaticVectors` block of a feature union, or ``None``."""
    return next((step for _, step in union.transformer_list if isinstance(step, StaticVectors)), None)
