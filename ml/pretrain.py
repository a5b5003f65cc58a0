"""Self-pretraining of a from-scratch BERT: masked-language modelling on the training texts.

A transformer trained from scratch on a few thousand labelled texts learns its token
representations from the labels alone. Pretraining the same network first as a masked
language model on the *same training texts* (no other data, no labels) gives it those
representations for free; Krishna et al. 2023 ("Downstream Datasets Make Surprisingly Good
Pretraining Corpora", ACL) found this closes much of the gap to off-the-shelf pretraining.
Only the training fold's texts are used, so nothing leaks from the rows a model is judged on.

Batches are grouped by length (:func:`ml.finetune.length_grouped_batches`), so short texts
are not padded to the longest of a random batch; the masked-LM loss is computed only at
the masked positions instead of over the whole vocabulary at every token.
"""

import math
import time

import numpy as np

from ml.finetune import length_grouped_batches, param_groups, warmup_then_decay


def mlm_pretrain(encoder, tokenizer, ids, *, steps, device, seed, batch_size=32, lr=5e-4, weight_decay=0.01,
                 warmup_ratio=0.06, mask_probability=0.15, max_seconds=None, progress=False):
    """Pretrain a BERT ``encoder`` (in place) as a masked language model on ``ids``.

    Parameters
    ----------
    encoder : transformers.BertModel
        A model from scratch (a classifier's ``bert`` or a mean-pooling classifier's
        ``encoder``); its pooler, which masked LM does not use, keeps its initial weights.
    tokenizer : transformers.PreTrainedTokenizerFast
        The model's tokenizer (its ``[MASK]`` and padding tokens are used).
    ids : list of list of int
        Token ids of the training texts.
    steps : int
        Optimiser steps (the learning-rate schedule spans them).
    max_seconds : float, optional
        Stop early after this much wall-clock time.

    Returns
    -------
    dict
        ``steps`` taken, ``seconds``, and the mean masked-LM loss of the first and of the
        last 50 steps (a quarter of them when fewer than 200) (``first_loss``, ``loss``).
    """
    import torch
    from transformers import BertForMaskedLM, DataCollatorForLanguageModeling

    mlm = BertForMaskedLM(encoder.config)
    mlm.bert.load_state_dict(encoder.state_dict(), strict=False)  # same initial weights
    mlm.to(device).train()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=mask_probability, return_tensors="pt")
    optimizer = torch.optim.AdamW(param_groups(mlm, lr, weight_decay), lr=lr)
    scheduler = warmup_then_decay(optimizer, steps, warmup_ratio)
    rng = np.random.default_rng(seed)
    lengths = [len(row) for row in ids]
    queue, losses, step, empty = [], [], 0, 0
    started = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="self-pretraining (masked LM)", unit="step", leave=False)
    while step < steps:
        if not queue:
            queue = length_grouped_batches(lengths, batch_size, rng)
        batch = collator([{"input_ids": ids[i]} for i in queue.pop()])
        batch = {k: v.to(device) for k, v in batch.items()}
        hidden = mlm.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        masked = batch["labels"] != -100
        if not masked.any():  # nothing maskable (texts of special tokens only): give up after a while
            empty += 1
            if empty > 100:
                break
            continue
        loss = torch.nn.functional.cross_entropy(mlm.cls(hidden[masked]), batch["labels"][masked])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(mlm.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        losses.append(float(loss.item()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if max_seconds and time.perf_counter() - started > max_seconds:
            break
    if bar is not None:
        bar.close()
    encoder.load_state_dict(mlm.bert.state_dict(), strict=False)  # the pooler keeps its initial weights
    window = max(1, min(50, len(losses) // 4))

    def mean(values):
        return round(sum(values) / len(values), 4) if values else math.nan

    return {"steps": step, "seconds": round(time.perf_counter() - started, 1),
            "first_loss": mean(losses[:window]), "loss": mean(losses[-window:])}
