"""pytest plugin (``-p tests.devenv`` in pytest.ini): the suite runs with development settings.

``DEBUG`` defaults to off in ``csplatform/settings.py``; the suite, like ``make demo``, sets it
explicitly unless the environment already does (tests of production settings set their own).
Loaded as a plugin because pytest-django imports the settings before any conftest.
"""
import os

os.environ.setdefault("DEBUG", "true")
