"""Which language a batch of texts is in (Chinese or English): the models pick their features by it."""


def cjk_ratio(texts, limit=2000):
    """Fraction of CJK ideographs among the non-space characters of ``texts``."""
    cjk = total = 0
    for text in texts[:limit]:
        for ch in text:
            if ch.isspace():
                continue
            total += 1
            if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
                cjk += 1
    return cjk / total if total else 0.0


def detect_language(texts):
    """Return ``"zh"`` when most characters are CJK ideographs, else ``"en"``."""
    return "zh" if cjk_ratio(texts) > 0.3 else "en"
