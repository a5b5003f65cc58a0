"""HTTP header helpers."""
import os
import re
import unicodedata
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def attachment_header(filename: str) -> str:
    """A ``Content-Disposition: attachment`` value for ``filename`` (RFC 6266).

    Control characters are dropped; the name goes in ``filename*=UTF-8''…`` (percent-encoded,
    so quotes, semicolons and non-ASCII letters cannot break the header) after a plain
    ``filename="…"`` fallback of safe ASCII characters for clients without RFC 5987 support.
    """
    name = _CONTROL.sub("", filename).strip() or "download"
    stem, ext = os.path.splitext(name)
    stem, ext = (_UNSAFE_ASCII.sub("_", _ascii(part)).strip("._") for part in (stem, ext))
    ascii_name = (stem or "download") + (f".{ext}" if ext else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
