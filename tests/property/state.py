"""A cheap fingerprint of everything a request could change: every row of Studio's own apps
(one SQL query hashing each table), the files of the artifact store, and the Celery queues.
An error answer must leave it as it was."""

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection

APP_LABELS = ("domains", "jobs", "metering", "studio")
# Columns a refused request may still write, as AWS does: a key's last use is recorded once its
# signature is checked, whatever the operation then answers (IAM's "last used" is the same).
VOLATILE = {("domains", "accesskey", "last_used_at")}


def _table_hashes_sql() -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    selects, names = [], []
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            meta = model._meta
            if meta.proxy or not meta.managed:
                continue
            columns = [
                quote(field.column)
                for field in meta.concrete_fields
                if (label, meta.model_name, field.name) not in VOLATILE
            ]
            row = f"row({', '.join(columns)})::text"
            selects.append(
                f"(SELECT md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) "
                f"FROM {quote(meta.db_table)})"
            )
            names.append(meta.db_table)
    return "SELECT " + ", ".join(selects), names


@dataclass(frozen=True)
class Fingerprint:
    tables: dict[str, str]
    files: str
    queues: dict[str, int]
    # The rows of the domain `fingerprint` was given, table by table: they must not change
    # whatever the answer, when it is another domain's than the caller's.
    domain: dict[str, str]

    def changes(self, after: "Fingerprint") -> list[str]:
        """What differs, named for a failure message."""
        changed = [f"table {t}" for t in self.tables if self.tables[t] != after.tables[t]]
        if self.files != after.files:
            changed.append("the artifact store's files")
        # Only more messages: a worker the session started for other tests may be taking
        # some meanwhile (what a request sent is also caught as work left to run on commit).
        changed += [
            f"Celery queue {q} ({self.queues[q]} -> {after.queues[q]} messages)"
            for q in self.queues
            if after.queues[q] > self.queues[q]
        ]
        return changed


_SQL: tuple[str, list[str]] | None = None
_DOMAIN_SQL: tuple[str, list[str]] | None = None


def fingerprint(domain_pk: int) -> Fingerprint:
    """Everything, and the rows of the domain `domain_pk` apart, in one query."""
    global _SQL, _DOMAIN_SQL
    if _SQL is None or _DOMAIN_SQL is None:
        _SQL, _DOMAIN_SQL = _table_hashes_sql(), _domain_rows_sql()
    sql, names = _SQL
    domain_sql, domain_names = _DOMAIN_SQL
    with connection.cursor() as cursor:
        cursor.execute(f"{sql}, {domain_sql}", {"domain": domain_pk})
        hashes = cursor.fetchone()
    tables = dict(zip(names, hashes[: len(names)], strict=True))
    domain = dict(zip(domain_names, hashes[len(names) :], strict=True))
    return Fingerprint(tables, _files(), _queues(), domain)


def _files() -> str:
    """Names, sizes and modification times of every file in the artifact store, and the
    names of its directories (not their times: a temporary file made and removed again in a
    directory changes its time, and nothing anyone can read)."""
    from studio.core.storage import artifact_store

    root = Path(artifact_store().root)
    digest = hashlib.md5()
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(directory)
        digest.update(f"{here.relative_to(root)}/\n".encode())
        for name in sorted(files):
            try:
                stat = (here / name).stat()
            except FileNotFoundError:
                continue
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@functools.cache
def _redis():
    from studio.core.health import redis_client

    return redis_client()


def _queues() -> dict[str, int]:
    """How many messages wait in this test process's Celery queues (no worker reads them in
    these tests: anything a request sent stays there)."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE, settings.STUDIO_INTERACTIVE_QUEUE]
    with _redis().pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(name)
        return dict(zip(names, pipe.execute(), strict=True))


def _path_to_domain(model, depth: int = 3) -> str | None:
    """The ORM lookup from `model` to the Domain it belongs to (`domain`, `space__domain`...)."""
    from domains.models import Domain

    if model is Domain:
        return "pk"
    if depth == 0:
        return None
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.related_model is None:
            continue
        if field.related_model is Domain:
            return field.name
        deeper = _path_to_domain(field.related_model, depth - 1)
        if deeper is not None and deeper != "pk":
            return f"{field.name}__{deeper}"
    return None


def _domain_rows_sql() -> tuple[str, list[str]]:
    """One query hashing, table by table, the rows that belong to the domain given as its
    parameter (the ORM writes each table's join to its domain)."""
    selects, names = [], []
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            path = _path_to_domain(model)
            if path is None:
                continue
            meta = model._meta
            columns = [
                field.attname
                for field in meta.concrete_fields
                if (label, meta.model_name, field.name) not in VOLATILE
            ]
            # A placeholder value, replaced by the parameter: the SQL is built once.
            rows = model._base_manager.filter(**{path: -424242}).values_list(*columns)
            sql, params = rows.query.get_compiler(connection=connection).as_sql()
            assert list(params) == [-424242], (meta.db_table, params)
            sql = sql.replace("%s", "%(domain)s")
            selects.append(
                "(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f"FROM ({sql}) t)"
            )
            names.append(meta.db_table)
    return ", ".join(selects), names
