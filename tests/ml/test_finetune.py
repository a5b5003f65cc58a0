"""The fine-tuning loop on a tiny bag-of-words network: weight averaging (``ema_decay``)."""

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ml.finetune import fine_tune  # noqa: E402


class Bag(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.EmbeddingBag(20, 3)

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=self.embed(input_ids))


def run(ema_decay, val_idx, ids, y):
    """Fine-tune a fresh Bag on rows 0-49; the weights of every training step and every evaluation."""
    torch.manual_seed(0)
    model = Bag()
    trained, evaluated = [], []
    model.register_forward_pre_hook(lambda m, args: trained.append(m.embed.weight.detach().clone())
                                    if m.training else None)

    def collate(rows):
        return {"input_ids": torch.tensor([row[:2] for row in rows])}

    def predict_proba(rows):
        evaluated.append(model.embed.weight.detach().clone())
        model.eval()  # as the backends' predict_proba; fine_tune switches back to training
        with torch.no_grad():
            return torch.softmax(model(**collate(rows)).logits, -1).numpy()

    steps, history, _ = fine_tune(
        model, model.parameters(), lr=0.5, ids=ids, y=y, train_idx=np.arange(50), val_idx=val_idx,
        collate=collate, predict_proba=predict_proba, device=torch.device("cpu"), total=10, batch_size=10,
        eval_every=2, patience=100, warmup_ratio=0.0, amp=False, max_seconds=None, seed=0, ema_decay=ema_decay)
    assert steps == 10
    return model.embed.weight.detach(), trained, evaluated, history


def test_weight_averaging_evaluates_and_returns_the_moving_average_without_changing_training():
    rng = np.random.default_rng(0)
    ids = [list(rng.integers(0, 20, size=4)) for _ in range(60)]
    y = np.array([row[0] % 3 for row in ids])
    plain, trajectory, _, _ = run(None, np.arange(0), ids, y)
    after = trajectory[1:] + [plain]  # the weights after each of the 10 steps
    averages = [after[0]]
    for weights in after[1:]:
        averages.append(0.8 * averages[-1] + 0.2 * weights)
    assert not torch.allclose(averages[-1], plain)

    final, trained, _, _ = run(0.8, np.arange(0), ids, y)
    assert all(torch.equal(a, b) for a, b in zip(trained, trajectory))  # same training path
    assert torch.allclose(final, averages[-1], atol=1e-6)  # no held-out rows: the average is returned

    best, trained, evaluated, history = run(0.8, np.arange(50, 60), ids, y)
    assert len(trained) == len(trajectory)
    assert all(torch.equal(a, b) for a, b in zip(trained, trajectory))  # evaluation swaps the raw weights back
    assert [h["step"] for h in history] == [2, 4, 6, 8, 10]
    for h, weights in zip(history, evaluated):
        assert torch.allclose(weights, averages[h["step"] - 1], atol=1e-6)  # the average is what is scored
    first_best = max(history, key=lambda h: h["val_accuracy"])["step"]
    assert torch.allclose(best, averages[first_best - 1], atol=1e-6)
