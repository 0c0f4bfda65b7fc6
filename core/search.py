"""The one text search over tasks, used by the API's ``q``, the search page, the queue's filter and the
admin panel, so that the same words find the same tasks everywhere.

Text is compared *folded*: lower-cased (Unicode case folding, so Cyrillic and Greek too) and without
diacritics (Vietnamese "Tiếng Việt" is found by "tieng viet" and by "Tiếng Việt"). Substrings match
in any script, so Chinese words are found without spaces. The database's own trigram index does the
work (migration 0005), not a scan:

- SQLite: an FTS5 table with ``tokenize='trigram'``. SQLite 3.40's trigram tokenizer folds case but
  cannot drop diacritics (``remove_diacritics`` needs 3.45), so the indexed text is folded by
  :func:`fold` (registered as the SQL function ``workdesk_fold``) and the query the same way. A query of
  one or two characters has no trigram, and a common word (:func:`is_common`) is found sooner without
  the index: both are matched with ``LIKE`` against the same folded text of each task the list visits
  in its own order (ids, or the due-date index), so the walk stops when the page is full.
- PostgreSQL: ``pg_trgm`` with a GIN index on the generated column ``core_task.search_text``
  (``workdesk_task_text(title, description)``: lower-cased, ``unaccent``-ed), queried with ``LIKE``
  against the query folded by the same SQL function; the index answers patterns of three characters
  or more, and for a common word the planner walks the list's order instead (migration 0007 adds the
  due-date indexes it needs).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable, Iterable, TypeVar

import peewee
from peewee import SQL, ModelSelect, NodeList, Value, fn

from .models import Task

T = TypeVar("T")

# "#123" or "123" also finds task number 123 (ASCII digits only: "²" is a digit to str.isdigit but
# not a number; 18 digits stay below the 64-bit column limit of either database).
TASK_NUMBER = re.compile(r"#?([0-9]{1,18})")
MAX_QUERY_LENGTH = 200
FTS_TABLE = "core_task_fts"
# Letters whose stroke is not a combining mark, so NFD leaves them alone (Vietnamese đ, Polish ł, ...).
# PostgreSQL's generated column of folded title and description (not a model field: the database fills it).
SEARCH_TEXT = peewee.Column(Task, "search_text")
_STROKES = str.maketrans({"đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ħ": "h", "Ħ": "h"})


def fold(text: str | None) -> str:
    """``text`` case-folded and without diacritics: NFD, combining marks dropped, recomposed."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_STROKES))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).casefold()


_CYRILLIC_I = {"\u0438", "\u0418"}  # и, И: with a breve (U+0306) they are й, Й, a letter of their own
_BREVE = "\u0306"


def name_sort_key(name: str | None) -> tuple[str, str, str]:
    """How lists of people are ordered (there is no ICU here, so no CLDR collation): by the name with case
    and accents ignored, so "élodie" sits with "Elodie", "Đặng" with "Dang" and "Ёлкин" with "Елкин",
    then case-insensitively with accents, then as written (a stable order for names that fold alike).
    Cyrillic "й" keeps its breve: in Russian and Bulgarian it is a letter of its own, sorted after "и".
    Scripts follow each other in Unicode order (Latin, Cyrillic, then Chinese by code point, not pinyin)."""
    if not name:
        return ("", "", "")
    decomposed = unicodedata.normalize("NFD", name.translate(_STROKES))
    kept, previous = [], ""
    for c in decomposed:
        if not unicodedata.combining(c) or (c == _BREVE and previous in _CYRILLIC_I):
            kept.append(c)
        previous = c
    return (unicodedata.normalize("NFC", "".join(kept)).casefold(), name.casefold(), name)


def sorted_by_name(people: Iterable[T], name: Callable[[T], str | None] = lambda person: person.name) -> list[T]:
    """``people`` (users, or rows with a ``name``) in the order of :func:`name_sort_key`."""
    return sorted(people, key=lambda person: name_sort_key(name(person)))


def register_fold(database: peewee.Database) -> None:
    """Make ``workdesk_fold(text)`` callable in SQL on every connection of a SQLite ``database`` (the
    search index's triggers call it)."""
    if isinstance(database, peewee.SqliteDatabase) and "workdesk_fold" not in database._functions:
        database.register_function(fold, "workdesk_fold", 1, deterministic=True)


_SQLITE_INDEX = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, tokenize='trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS core_task_fts_insert AFTER INSERT ON core_task BEGIN
        INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, workdesk_fold(new.title || char(10) || new.description));
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS core_task_fts_update AFTER UPDATE OF title, description ON core_task BEGIN
        UPDATE {FTS_TABLE} SET body = workdesk_fold(new.title || char(10) || new.description) WHERE rowid = new.id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS core_task_fts_delete AFTER DELETE ON core_task BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
    END""",
    f"""INSERT INTO {FTS_TABLE}(rowid, body) SELECT id, workdesk_fold(title || char(10) || description)
        FROM core_task WHERE id NOT IN (SELECT rowid FROM {FTS_TABLE})""",
]

def _postgres_index(database: peewee.Database) -> list[str]:
    """The statements for PostgreSQL, every name qualified: an index expression is evaluated later under
    whatever search_path the session (or autovacuum) has, and the extensions may live in another schema
    than Workdesk's tables."""
    # An extension exists once per database. Installed where it already is, else in ``public``: in the
    # schema of one Workdesk (several may share a database, each in its own schema) it would vanish
    # with that schema and take the others' search columns with it.
    has_public = database.execute_sql("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").fetchone()
    where = " SCHEMA public" if has_public else ""
    database.execute_sql(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}")
    database.execute_sql(f"CREATE EXTENSION IF NOT EXISTS unaccent{where}")
    schemas = dict(database.execute_sql(
        "SELECT extname, quote_ident(extnamespace::regnamespace::text) FROM pg_extension"
        " WHERE extname IN ('pg_trgm', 'unaccent')").fetchall())
    here = database.execute_sql("SELECT quote_ident(current_schema())").fetchone()[0]
    trgm, unaccent = schemas["pg_trgm"], schemas["unaccent"]
    # unaccent() is only STABLE (its dictionary could change); naming the dictionary makes the wrapper
    # safe to declare IMMUTABLE, which an index expression requires.
    return [
        f"""CREATE OR REPLACE FUNCTION {here}.workdesk_fold(text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT pg_catalog.lower({unaccent}.unaccent('{unaccent}.unaccent'::regdictionary, $1)) $$""",
        f"""CREATE OR REPLACE FUNCTION {here}.workdesk_task_text(title text, description text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT {here}.workdesk_fold(title || E'\\n' || description) $$""",
        # Stored, so that the index's recheck of each candidate reads the folded text instead of folding
        # title and description again (unaccent on thousands of rows is what a common word would cost).
        f"""ALTER TABLE core_task ADD COLUMN IF NOT EXISTS search_text text
            GENERATED ALWAYS AS ({here}.workdesk_task_text(title, description)) STORED""",
        f"CREATE INDEX IF NOT EXISTS core_task_search_text_trgm ON core_task USING gin (search_text {trgm}.gin_trgm_ops)",
    ]


def install_search_index(database: peewee.Database) -> None:
    """Create the search index of ``database`` and fill it from the existing tasks (idempotent)."""
    with database.atomic():
        if isinstance(database, peewee.SqliteDatabase):
            register_fold(database)
            statements = _SQLITE_INDEX
        else:
            statements = _postgres_index(database)
        for statement in statements:
            database.execute_sql(statement)


def _like_pattern(text: str) -> str:
    """``%text%`` with LIKE's own characters taken literally (escape character ``\\``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# A word is *common* when at least sqrt(WALK_FACTOR x tasks) tasks hold it (about 3,900 of 100,000): a page in
# a list's own order is then found sooner by walking that order (an index: id, due date) and testing each
# task's folded text, stopping at the page's end, than by gathering every hit and sorting them. Measured
# on SQLite (bench/bench_search.py): testing one task costs about 4 us, gathering and sorting a hit 1.4 us.
WALK_FACTOR = 150


def _sqlite_row_test(folded: str) -> peewee.Node:
    """Each task's folded text, looked up by rowid as the list is walked, LIKE the folded query."""
    body = NodeList((SQL(f"(SELECT body FROM {FTS_TABLE} WHERE rowid ="), Task.id, SQL(")")))
    return NodeList((body, SQL("LIKE"), Value(_like_pattern(folded)), SQL("ESCAPE '\\'")))


def is_common(folded: str) -> bool:
    """Whether the SQLite index holds the (three or more character) folded text in so many tasks that
    walking a list's order finds a page sooner than gathering every hit: counted up to the threshold only."""
    database = Task._meta.database
    tasks = database.execute_sql(f"SELECT max(id) FROM {Task._meta.table_name}").fetchone()[0] or 0  # O(1)
    threshold = max(50, int((WALK_FACTOR * tasks) ** 0.5))
    phrase = '"' + folded.replace('"', '""') + '"'
    found = database.execute_sql(f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?"
                                 f" LIMIT ?)", (phrase, threshold)).fetchone()[0]
    return found >= threshold


def _text_condition(text: str, walk: bool | None = None) -> peewee.Expression:
    """The condition "title or description contains ``text``". ``walk`` (SQLite) forces one of the two
    plans: True tests each task the list visits, False gathers the index's hits; None decides by
    :func:`is_common`."""
    if isinstance(Task._meta.database.obj, peewee.SqliteDatabase):
        folded = fold(text)
        if len(folded) < 3:
            # One or two characters (a Chinese word is often two) have no trigram: each task the list
            # visits, in its own order, is tested, so a common word fills a page after a few rows.
            return _sqlite_row_test(folded)
        if walk if walk is not None else is_common(folded):
            return _sqlite_row_test(folded)
        # A phrase of the trigram tokenizer matches the folded text as a substring.
        phrase = '"' + folded.replace('"', '""') + '"'
        hits = SQL(f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)", [phrase])
        return Task.id.in_(hits)
    # PostgreSQL folds the query with the function the index was built with, so both sides agree. Its
    # planner makes the same choice as is_common() from the column's statistics: an index walk in the
    # list's order filtering on the stored folded text for a common word, the trigram index for a rare one.
    pattern = NodeList((SQL("'%%' ||"), fn.workdesk_fold(_like_pattern(text)[1:-1]), SQL("|| '%%'")))
    return NodeList((SEARCH_TEXT, SQL("LIKE"), pattern))


def matching_tasks(query: ModelSelect, text: str) -> ModelSelect:
    """``query`` narrowed to tasks whose title or description contains ``text`` (case and diacritics
    ignored, any script), or whose number it is. Blank text leaves the query as it is."""
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    if not text:
        return query
    condition = _text_condition(text)
    number = TASK_NUMBER.fullmatch(text)
    if number:
        condition |= Task.number == int(number.group(1))
    return query.where(condition)
