"""pytest plugin (``-p tests.devenv`` in pytest.ini): the suite runs with development settings.

``DEBUG`` defaults to off in ``csplatform/settings.py``; the suite, like ``make demo``, sets it
explicitly unless the environment already does (tests of production settings set their own).
Loaded as a plugin because pytest-django imports the settings before any conftest.
"""
import os

os.environ.setdefault("DEBUG", "true")

# Under pytest-xdist each worker process gets its own var directory: the embedded broker's
# folders and the model store are files, and two workers sharing them would read each other's
# messages and artifacts (databases are already separate per worker). A shared cache (Redis)
# gets a key prefix per worker for the same reason: one worker saving an API key or promoting a
# model must not invalidate another worker's per-process caches in the middle of its test.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _base = os.environ.get("VAR_DIR") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var")
    os.environ["VAR_DIR"] = os.path.join(_base, f"xdist-{_worker}")
    os.environ["CACHE_KEY_PREFIX"] = f"{os.environ.get('CACHE_KEY_PREFIX', '')}xdist-{_worker}"
