"""Per-request cost of the API throttle on the shared cache: ours against DRF's ScopedRateThrottle.

    DEBUG=true .venv/bin/python bench/throttle_bench.py [--requests 3000 10000]

One client, the ``predict`` scope, every request in one rate window (as under ``bench/load.sh``,
where a window holds tens of thousands of requests). Uses ``CACHE_URL`` (Redis for a real
figure: ``CACHE_URL=redis://127.0.0.1:6379/11``). DRF's throttle keeps the timestamp of every
request of the window in one cache value that it reads and writes back on each request, so its
cost grows with the requests already made; ours is one counter increment (fewer with leases).
Prints microseconds per request for each throttle after N requests of a window.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, nargs="+", default=[3000, 10000])
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.cache import cache
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import ScopedRateThrottle

    from apps.core.auth import APIKeyUser
    from apps.core.models import APIKey
    from apps.core.throttling import ClientRateThrottle

    class View:
        throttle_scope = "predict"

    request = Request(APIRequestFactory().post("/api/v1/predict"))
    request.user = APIKeyUser(APIKey(prefix="bench", name="bench"))
    request._request.user = request.user
    view = View()
    print(f"cache: {cache.__class__.__name__}; predict rate {ScopedRateThrottle.THROTTLE_RATES['predict']}")
    for n in args.requests:
        for name, throttle_class in (("ours: ClientRateThrottle", ClientRateThrottle),
                                     ("DRF: ScopedRateThrottle", ScopedRateThrottle)):
            cache.clear()
            started = time.perf_counter()
            for _ in range(n):
                throttle_class().allow_request(request, view)
            per_request = (time.perf_counter() - started) / n * 1e6
            print(f"{name:26s} {n:>6d} requests in one window: {per_request:8.1f} µs/request")


if __name__ == "__main__":
    main()
