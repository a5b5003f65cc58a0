"""``ml/`` never imports Django."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import ml

ML_DIR = Path(ml.__file__).resolve().parent
REPO = ML_DIR.parent


def _modules():
    return sorted(f"ml.{info.name}" for info in pkgutil.iter_modules([str(ML_DIR)]) if info.name != "__main__")


def test_every_ml_module_imports_without_django():
    modules = _modules()
    assert {"ml.linear", "ml.embedding", "ml.transformer", "ml.ensemble", "ml.quality", "ml.cli"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_ml_source_mentions_a_django_import():
    offenders = []
    for path in sorted(ML_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__"):
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in ("django", "apps")]
    assert offenders == []


def test_no_pickle_or_star_imports_in_ml():
    offenders = []
    for path in sorted(ML_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name in ("pickle", "joblib", "dill") for a in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (
                    node.module in ("pickle", "joblib", "dill") or any(a.name == "*" for a in node.names)):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
