"""Model bodies and tokenizers the ``transformer`` backend builds (torch imported lazily)."""

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_wordpiece(texts, vocab_size=8000, min_frequency=2):
    """Build a BERT-style WordPiece tokenizer from ``texts``, deterministically.

    The vocabulary holds every character seen (as a word start and as a ``##``
    continuation) and the most frequent whole words (ties broken alphabetically), so any
    word can be spelt. CJK characters are split into single characters by the BERT
    normaliser, so Chinese needs no segmenter.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
    """
    from collections import Counter

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts, chars = Counter(), set()
    for text in texts:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            counts[word] += 1
            chars.update(word)
    pieces = sorted(chars) + ["##" + ch for ch in sorted(chars)]
    words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_frequency and len(w) > 1]
    tokens = SPECIAL_TOKENS + pieces + words[:max(0, vocab_size - len(SPECIAL_TOKENS) - len(pieces))]
    vocab = {token: i for i, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]",
    )


def pad_batch(ids_list, pad_id, device):
    """Token-id lists -> ``input_ids`` and ``attention_mask``, padded to the longest (dynamic padding)."""
    import torch

    width = max(len(ids) for ids in ids_list)
    input_ids = torch.full((len(ids_list), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids_list), width), dtype=torch.long)
    for row, ids in enumerate(ids_list):
        input_ids[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[row, :len(ids)] = 1
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}


def mean_pool_classifier(encoder, n_classes):
    """``encoder`` (an ``AutoModel``) + masked mean pooling + L2 norm + a linear head.

    Returns a ``torch.nn.Module`` whose ``forward(input_ids, attention_mask)`` returns an
    object with ``.logits`` (as Hugging Face classifiers do) and whose ``pooled(...)``
    returns the normalised sentence embeddings.
    """
    from types import SimpleNamespace

    import torch

    class MeanPoolClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, n_classes)

        def pooled(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

        def forward(self, input_ids, attention_mask):
            return SimpleNamespace(logits=self.head(self.pooled(input_ids, attention_mask)))

    return MeanPoolClassifier()


def warm_start_head(head, features, y, n_classes, C):
    """Set ``head`` (a ``torch.nn.Linear``) to a logistic regression fit on ``features`` -> ``y``."""
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression

    probe = LogisticRegression(C=C, max_iter=1000, random_state=0).fit(features, y)
    weight = np.zeros((n_classes, features.shape[1]), dtype=np.float32)
    bias = np.full(n_classes, -10.0, dtype=np.float32)  # a class absent from the split
    if len(probe.classes_) == 2:  # binary: one coefficient row, the other class's logit is 0
        weight[probe.classes_[1]], bias[probe.classes_[1]] = probe.coef_[0], probe.intercept_[0]
        bias[probe.classes_[0]] = 0.0
    else:
        weight[probe.classes_], bias[probe.classes_] = probe.coef_, probe.intercept_
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight))
        head.bias.copy_(torch.from_numpy(bias))
