"""Fast inserts on PostgreSQL with COPY (psycopg 3); other databases fall back to bulk_create.

COPY skips the ORM's per-value preparation, which dominates ``bulk_create`` for wide rows.
Ids are taken from the table's sequence first, so callers know them without RETURNING.
"""
import json
from collections.abc import Sequence

from django.db import connection, models


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
        )
        return [row[0] for row in cursor.fetchall()]


def copy_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> None:
    """COPY ``rows`` (values in ``fields`` order; JSON fields as Python objects) into ``model``'s table."""
    opts = model._meta
    columns = [opts.get_field(f).column for f in fields]
    json_positions = [i for i, f in enumerate(fields) if isinstance(opts.get_field(f), models.JSONField)]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(opts.db_table)} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                if json_positions:
                    row = list(row)
                    for i in json_positions:
                        row[i] = json.dumps(row[i], ensure_ascii=False)
                copy.write_row(row)
