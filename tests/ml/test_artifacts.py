"""Artifacts are refused when tampered with, incomplete or of an unknown kind."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io

import ml
from ml.artifacts import ArtifactError, sha256_file, skops_load

TEXTS = ["where is my new card", "my card has not arrived", "card still not here",
         "what is the exchange rate", "exchange rate for euros", "how much is the rate today"] * 4
LABELS = ["card_arrival"] * 3 + ["exchange_rate"] * 3


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    model = ml.build("intent", "linear", random_state=0).fit(TEXTS, LABELS * 4)
    return model.save(tmp_path_factory.mktemp("artifact") / "model")


@pytest.fixture
def artifact(saved, tmp_path):
    return shutil.copytree(saved, tmp_path / "model")


def _rehash(path):
    """What an attacker who can also edit the manifest would do."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"] = {p.relative_to(path).as_posix(): sha256_file(p)
                         for p in path.rglob("*") if p.is_file() and p.name != "manifest.json"}
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_artifact_error_is_a_value_error():
    assert issubclass(ArtifactError, ValueError)


def test_intact_artifact_loads(artifact):
    assert list(ml.load(artifact).predict(["where is my card"])) == ["card_arrival"]


def test_tampered_file_is_refused_before_deserialising(artifact, monkeypatch):
    with open(artifact / "pipeline.skops", "ab") as handle:
        handle.write(b"\0")
    calls = []
    monkeypatch.setattr(skops.io, "load", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(skops.io, "get_untrusted_types", lambda *a, **k: calls.append(a))
    with pytest.raises(ArtifactError, match="sha256 mismatch for pipeline.skops"):
        ml.load(artifact)
    assert calls == []


def test_missing_file_is_refused(artifact):
    (artifact / "pipeline.skops").unlink()
    with pytest.raises(ArtifactError, match="missing: pipeline.skops"):
        ml.load(artifact)


def test_extra_unknown_file_is_refused(artifact):
    (artifact / "evil.pkl").write_bytes(b"cos\nsystem\n")
    with pytest.raises(ArtifactError, match="unknown file.*evil.pkl"):
        ml.load(artifact)


def test_missing_manifest_and_directory_are_refused(artifact, tmp_path):
    with pytest.raises(ArtifactError, match="not found"):
        ml.load(tmp_path / "nothing-here")
    (artifact / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="manifest.json is missing"):
        ml.load(artifact)


def test_unknown_backend_is_refused(artifact):
    manifest = json.loads((artifact / "manifest.json").read_text())
    manifest["backend"] = "pickle"
    (artifact / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="unknown backend 'pickle'"):
        ml.load(artifact)


@pytest.mark.parametrize("version", [1, ml.FORMAT_VERSION + 1, None])
def test_other_format_version_is_refused_with_a_retrain_message(artifact, version):
    manifest = json.loads((artifact / "manifest.json").read_text())
    manifest["format_version"] = version
    (artifact / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=f"format {version}.*retrain the model"):
        ml.load(artifact)


class Evil:
    """A type outside the trusted list."""


def test_untrusted_type_is_refused_even_with_matching_hashes(artifact):
    skops.io.dump({"x": Evil()}, artifact / "pipeline.skops")
    _rehash(artifact)
    with pytest.raises(ArtifactError, match="untrusted type.*Evil"):
        ml.load(artifact)
    with pytest.raises(ArtifactError, match="untrusted"):
        skops_load(artifact / "pipeline.skops", trusted=())


def test_save_replaces_atomically_and_cleans_up(saved, tmp_path):
    model = ml.load(saved)
    target = tmp_path / "model"
    model.save(target)
    (target / "marker").write_text("old")  # would make the old artifact unloadable
    model.save(target)
    assert not (target / "marker").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    np.testing.assert_allclose(ml.load(target).predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_failed_save_leaves_previous_artifact(saved, tmp_path):
    model = ml.load(saved)
    target = model.save(tmp_path / "model")
    before = (target / "manifest.json").read_bytes()
    with pytest.raises(ValueError, match="bad report file name"):
        model.save(target, extra_files={"../escape.txt": b"x"})  # fails after the model files are written
    assert (target / "manifest.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    ml.load(target)


def test_reports_are_hashed_with_the_model(saved, tmp_path):
    model = ml.load(saved)
    target = model.save(tmp_path / "model", extra_files={"confusion_matrix.json": b"{}"})
    assert "reports/confusion_matrix.json" in json.loads((target / "manifest.json").read_text())["files"]
    (target / "reports" / "confusion_matrix.json").write_text("[]")
    with pytest.raises(ArtifactError):
        ml.load(target)


def test_embedding_checkpoint_must_match_its_hash(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "embedding", random_state=0).fit(train_x[:50], train_y[:50])
    path = model.save(tmp_path / "model")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["checkpoint_sha256"] = "0" * 64
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="checkpoint"):
        ml.load(path)  # refused at load time, before the checkpoint is used


def test_load_refuses_a_changed_referenced_checkpoint(banking_slice, tmp_path):
    from ml.embedding import default_checkpoint

    train_x, train_y, _, _ = banking_slice
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    for item in Path(default_checkpoint()).iterdir():
        if item.name == "model.safetensors":
            shutil.copy(item, checkpoint / item.name)
        else:
            (checkpoint / item.name).symlink_to(item)
    model = ml.build("intent", "embedding", checkpoint=str(checkpoint), random_state=0).fit(train_x[:30], train_y[:30])
    path = model.save(tmp_path / "model")
    ml.load(path)  # unchanged: loads
    with open(checkpoint / "model.safetensors", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="checkpoint"):
        ml.load(path)
