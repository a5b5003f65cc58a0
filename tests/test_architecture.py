"""The dependency graph: ``workers/`` -> ``apps/`` -> ``ml/``, and no cycle between apps.

Every ``import`` statement in ``apps/`` and ``workers/`` is read with ``ast`` (module level and
inside functions alike: an import in a function is still a dependency), and each edge is
reduced to its top package (``apps.<app>`` or ``workers``).
"""
from __future__ import annotations

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

Graph = dict[str, dict[str, set[str]]]  # source -> target -> files that import it


def _node(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "apps" and len(parts) > 1 and parts[1] not in ("", "__init__"):
        return f"apps.{parts[1]}"
    if parts[0] == "workers":
        return "workers"
    return None


def _imported_modules(path: Path, package: list[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def import_graph(base: Path = ROOT, roots: tuple[str, ...] = ("apps", "workers")) -> Graph:
    graph: Graph = defaultdict(lambda: defaultdict(set))
    for root in roots:
        for path in sorted((base / root).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            package = parts[:-1]
            source = _node(".".join(parts))
            if source is None:
                continue
            graph[source]  # noqa: B018 - every app is a node, importing or not
            for module in _imported_modules(path, package):
                target = _node(module)
                if target and target != source:
                    graph[source][target].add("/".join(parts) + ".py")
    return graph


def workers_importers(graph: Graph) -> list[str]:
    return [f"{source} ({', '.join(sorted(targets['workers']))})"
            for source, targets in graph.items() if source != "workers" and "workers" in targets]


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle between the graph's nodes, described with the importing files; None when acyclic."""
    try:
        graphlib.TopologicalSorter({s: set(t) for s, t in graph.items()}).prepare()
    except graphlib.CycleError as exc:
        nodes = exc.args[1][::-1]  # the sorter lists predecessors first; edges run importer -> imported
        return [f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})" for a, b in zip(nodes, nodes[1:])]
    return None


def test_apps_never_import_workers():
    offenders = workers_importers(import_graph())
    assert not offenders, "apps import workers/ (dispatch by task name instead): " + "; ".join(offenders)


def test_no_import_cycle_between_apps():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle between apps:\n" + "\n".join(cycle)


def test_workers_call_into_apps():
    graph = import_graph()
    assert graph["workers"] and all(t.startswith("apps.") for t in graph["workers"])


def _write(base: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checks_fail_on_a_cycle_and_on_an_apps_to_workers_edge(tmp_path):
    _write(tmp_path, {
        "apps/a/services.py": "def f():\n    from apps.b import services\n",
        "apps/b/services.py": "from ..a.services import f\n",
        "apps/c/tasks.py": "from workers.jobs import cleanup\n",
        "workers/jobs.py": "from apps.c import tasks\n",
    })
    graph = import_graph(tmp_path)
    cycle = find_cycle(graph)
    assert cycle and {line.split(" ")[0] for line in cycle} == {"apps.a", "apps.b"}
    assert workers_importers(graph) == ["apps.c (apps/c/tasks.py)"]


def test_the_checks_pass_a_one_way_graph(tmp_path):
    _write(tmp_path, {
        "apps/a/services.py": "import os\n",
        "apps/b/services.py": "from apps.a.services import os\n",
        "workers/jobs.py": "from apps.b import services\n",
    })
    graph = import_graph(tmp_path)
    assert find_cycle(graph) is None and workers_importers(graph) == []


SETTINGS = ROOT / "csplatform" / "settings.py"


def _env_names() -> set[str]:
    """Every environment variable ``settings.py`` reads with ``env(...)`` / ``env.<cast>(...)``."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            base = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(base, ast.Name) and base.id == "env" and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def test_every_environment_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Settings"):]
    names = _env_names()
    assert len(names) > 30
    missing = sorted(n for n in names if f"`{n}`" not in table)
    assert not missing, f"settings read from the environment but not in README's settings table: {missing}"


def test_code_reads_settings_that_settings_py_defines():
    """No ``getattr(settings, NAME, default)``: a default hidden in code is a setting nobody can find."""
    offenders = []
    for root in ("apps", "workers", "csplatform"):
        for path in (ROOT / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                        and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "settings"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
