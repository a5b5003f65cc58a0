"""Model bodies and tokenizers the ``transformer`` backend builds and stores (torch imported lazily)."""

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MODEL_DIR = "model"
HEAD_FILE = "head.safetensors"


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


def _label_maps(classes):
    return {"id2label": {i: str(c) for i, c in enumerate(classes)},
            "label2id": {str(c): i for i, c in enumerate(classes)}}


def scratch_network(texts, classes, pooling, max_length, vocab_size, config):
    """A WordPiece tokenizer trained on ``texts`` and a randomly initialised BERT of ``config``.

    ``pooling="mean"``: encoder + :func:`mean_pool_classifier`; ``"cls"``:
    ``BertForSequenceClassification``. Returns ``(tokenizer, model)``.
    """
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    tokenizer = train_wordpiece(texts, vocab_size)
    config = BertConfig(vocab_size=len(tokenizer), num_labels=len(classes),
                        max_position_embeddings=max(max_length, 64), pad_token_id=tokenizer.pad_token_id,
                        **config, **_label_maps(classes))
    model = mean_pool_classifier(BertModel(config), len(classes)) if pooling == "mean" \
        else BertForSequenceClassification(config)
    return tokenizer, model


def pretrained_network(checkpoint, classes, pooling):
    """Tokenizer and classifier from a local checkpoint directory; returns ``(tokenizer, model)``."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    if pooling == "mean":
        encoder = AutoModel.from_pretrained(checkpoint, local_files_only=True)
        return tokenizer, mean_pool_classifier(encoder, len(classes))
    return tokenizer, AutoModelForSequenceClassification.from_pretrained(
        checkpoint, num_labels=len(classes), local_files_only=True, ignore_mismatched_sizes=True, **_label_maps(classes))


def save_network(model, tokenizer, pooling, directory):
    """Weights as safetensors under ``directory`` (``save_pretrained``; a mean-pooled head beside it)."""
    if pooling == "mean":
        from safetensors.torch import save_file

        model.encoder.save_pretrained(directory / MODEL_DIR, safe_serialization=True)
        save_file({"weight": model.head.weight.detach().cpu().contiguous(),
                   "bias": model.head.bias.detach().cpu().contiguous()}, str(directory / HEAD_FILE))
    else:
        model.save_pretrained(directory / MODEL_DIR, safe_serialization=True)
    tokenizer.save_pretrained(directory / MODEL_DIR)


def load_network(directory, pooling):
    """The inverse of :func:`save_network` (safetensors only); returns ``(tokenizer, model)`` in eval mode."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    path = directory / MODEL_DIR
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if pooling == "mean":
        from safetensors.torch import load_file

        head = load_file(str(directory / HEAD_FILE))
        net = mean_pool_classifier(
            AutoModel.from_pretrained(path, local_files_only=True, use_safetensors=True), head["weight"].shape[0])
        net.head.load_state_dict(head)
    else:
        net = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True, use_safetensors=True)
    return tokenizer, net.eval()
