"""Model artifact directories: atomic writes, manifests and hash verification.

An artifact is a directory holding ``manifest.json`` and the files it lists. Loading
checks that every listed file exists and matches its sha256, and that no unlisted file
is present, before anything is deserialised.
"""

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

MANIFEST = "manifest.json"
FORMAT_VERSION = 2
LIBRARY_NAME = "ml"
LIBRARY_VERSION = "0.1.0"

_VERSIONED = ("numpy", "scipy", "scikit-learn", "skops", "torch", "transformers", "tokenizers", "safetensors")


class ArtifactError(ValueError):
    """A model artifact is missing, incomplete, tampered with or of an unknown kind."""


def sha256_file(path, chunk_size=1 << 20):
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_fingerprint(texts, y):
    """Return a sha256 over the training texts and labels, in order.

    Parameters
    ----------
    texts : sequence of str
    y : sequence of labels or numbers

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    for text, label in zip(texts, y):
        digest.update(str(text).encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(str(label).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def library_versions():
    """Return the versions of Python and the libraries that shape an artifact."""
    versions = {"python": platform.python_version(), LIBRARY_NAME: LIBRARY_VERSION}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _list_files(root):
    root = Path(root)
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            files.append((Path(dirpath) / name).relative_to(root).as_posix())
    return files


def write_artifact(path, write_files, manifest):
    """Write an artifact directory atomically.

    Files are written into a temporary directory next to ``path``; the manifest with the
    sha256 of every file is added, and the directory is renamed into place.

    Parameters
    ----------
    path : str or Path
        Target directory; an existing artifact there is replaced.
    write_files : callable
        Called with the temporary directory (a Path); writes the model's files.
    manifest : dict
        Manifest fields (task, backend, classes, params, metrics, ...).

    Returns
    -------
    Path
        The artifact directory.
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        write_files(tmp)
        files = {name: sha256_file(tmp / name) for name in _list_files(tmp) if name != MANIFEST}
        full = {
            "format_version": FORMAT_VERSION,
            **manifest,
            "library_versions": library_versions(),
            "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "files": files,
        }
        with open(tmp / MANIFEST, "w", encoding="utf-8") as handle:
            json.dump(full, handle, indent=2, sort_keys=True, default=_json_default)
            handle.write("\n")
        os.chmod(tmp, 0o755)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.rename(path, old / "artifact")
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _json_default(value):
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_manifest(path, known_backends=None):
    """Verify an artifact directory and return its manifest.

    Parameters
    ----------
    path : str or Path
    known_backends : collection of str, optional
        Backends this library can load; anything else is refused.

    Returns
    -------
    dict

    Raises
    ------
    ArtifactError
        When the directory or manifest is missing or malformed, a file is missing, a hash
        differs, an unlisted file is present, or the backend is unknown.
    """
    path = Path(path)
    if not path.is_dir():
        raise ArtifactError(f"model directory not found: {path}")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ArtifactError(f"{path} is not a model artifact: {MANIFEST} is missing")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{manifest_path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{manifest_path} has no 'files' table")
    for key in ("task", "backend"):
        if not isinstance(manifest.get(key), str):
            raise ArtifactError(f"{manifest_path} has no '{key}'")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{path} is in artifact format {manifest.get('format_version')!r}; this library reads only "
            f"format {FORMAT_VERSION}: retrain the model"
        )
    if known_backends is not None and manifest["backend"] not in known_backends:
        raise ArtifactError(f"{path}: unknown backend {manifest['backend']!r}")
    expected = manifest["files"]
    present = set(_list_files(path)) - {MANIFEST}
    for name, digest in sorted(expected.items()):
        if name not in present:
            raise ArtifactError(f"{path}: file listed in the manifest is missing: {name}")
        if sha256_file(path / name) != digest:
            raise ArtifactError(f"{path}: sha256 mismatch for {name} (file modified or corrupted)")
    extra = sorted(present - set(expected))
    if extra:
        raise ArtifactError(f"{path}: unknown file(s) not listed in the manifest: {', '.join(extra)}")
    return manifest


def skops_dump(obj, path):
    """Persist a scikit-learn object with skops (no pickle)."""
    import skops.io

    skops.io.dump(obj, path)


def skops_load(path, trusted):
    """Load a skops file, refusing any type outside ``trusted``.

    Call only after :func:`read_manifest` verified the file's hash.

    Parameters
    ----------
    path : str or Path
    trusted : collection of str
        Fully qualified type names allowed beyond skops' defaults.

    Raises
    ------
    ArtifactError
        When the file needs a type outside the trusted list.
    """
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - skops raises various errors on bad files
        raise ArtifactError(f"{path}: not a readable skops file: {exc}") from exc
    unknown = sorted(set(untrusted) - set(trusted))
    if unknown:
        raise ArtifactError(f"{path}: refusing to load untrusted type(s): {', '.join(unknown)}")
    return skops.io.load(path, trusted=sorted(set(untrusted)))
