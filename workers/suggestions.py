"""Reply-suggestion tasks: keep the index of best past replies up to date."""
from celery import shared_task

from apps.scoring import retrieval


@shared_task(name="scoring.rebuild_reply_index", soft_time_limit=1500, time_limit=1800,
             ignore_result=True)
def rebuild_reply_index(full: bool = False) -> dict:
    """Incremental rebuild (``full=True`` refits the vocabulary); a concurrent second run returns at once."""
    return retrieval.reply_index_rebuild(full=full)
