"""Search in any script: a trigram index over the folded title and description of every task.

SQLite: an FTS5 table with the trigram tokenizer (``core_task_fts``, rowid = task id), kept in step with
``core_task`` by triggers that fold the text through ``workdesk_fold`` (registered on every connection
Workdesk opens). PostgreSQL: ``pg_trgm`` and ``unaccent``, an immutable ``workdesk_fold``, a generated
column ``core_task.search_text`` (``workdesk_task_text(title, description)``) and a GIN trigram index
on it.
"""
from workdesk.search import install_search_index


def upgrade(migrator, database):
    install_search_index(database)
