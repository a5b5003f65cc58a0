"""Summarise a py-spy ``--format raw`` profile: top functions by inclusive and self time.

    python bench/load_profile_summary.py /tmp/var_bench/profile-predict.txt [N]
"""
import re
import sys
from collections import Counter


# Frames every request passes through (gunicorn, the middleware chain) say little on their own.
GENERIC = ("run ", "Arbiter.", "SyncWorker.", "BaseApplication.", "Application.", "Worker.", "<module>",
           "convert_exception_to_response", "MiddlewareMixin.__call__", "BaseHandler.", "WSGIHandler.")


def main(path: str, top: int = 25) -> None:
    inclusive, own, total = Counter(), Counter(), 0
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        # "func (file.py:123)" -> "func (file.py)": aggregate the lines of one function.
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"{total} samples")
    print("\n-- inclusive (function and everything it calls)")
    for frame, n in [(f, n) for f, n in inclusive.most_common() if not f.startswith(GENERIC)][:top]:
        print(f"{100 * n / total:5.1f}%  {frame}")
    print("\n-- self (time in the function itself)")
    for frame, n in own.most_common(top):
        print(f"{100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
