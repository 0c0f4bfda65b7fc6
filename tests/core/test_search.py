"""Search in any script (workdesk.search.matching_tasks): Chinese without spaces, Cyrillic in any case,
Vietnamese with or without diacritics, on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""
from __future__ import annotations

import pytest

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def tasks(workdesk_app, make_user, make_department, make_task):
    department = make_department()
    user = make_user("agent", departments=[department])
    made = {
        "printer": make_task(user, department, title="打印机卡纸", description="三楼的打印机又卡纸了，请尽快处理。"),
        "vpn": make_task(user, department, title="Не работает VPN", description="С утра ДОСТУП к серверу пропал."),
        "roof": make_task(user, department, title="Mái nhà bị dột", description="Nước chảy vào phòng họp tầng hai."),
        "road": make_task(user, department, title="Đường ống nước", description="Kiểm tra đường ống ở kho."),
        "plain": make_task(user, department, title="Replace 100% of the badges", description="Under_score here."),
    }
    return user, made


def _found(text: str) -> set[int]:
    from workdesk.models import Task
    from workdesk.search import matching_tasks
    return {t.id for t in matching_tasks(Task.select(Task.id), text)}


@BOTH_DATABASES
def test_search_in_every_script(tasks):
    _user, t = tasks
    assert _found("打印机") == {t["printer"].id}           # Chinese words, no spaces around them
    assert _found("卡纸") == {t["printer"].id}             # two characters: the short-query fallback
    assert _found("又卡纸了") == {t["printer"].id}
    assert _found("vpn") == {t["vpn"].id}
    assert _found("РАБОТАЕТ") == {t["vpn"].id}            # Cyrillic in any case
    assert _found("доступ к серверу") == {t["vpn"].id}
    assert _found("Mái nhà") == {t["roof"].id}             # Vietnamese with diacritics
    assert _found("mai nha bi dot") == {t["roof"].id}      # ... and without
    assert _found("PHÒNG HỌP") == {t["roof"].id}
    assert _found("duong ong") == {t["road"].id}           # đ folds to d
    assert _found("Đường") == {t["road"].id}
    assert _found("nước") == {t["roof"].id, t["road"].id}
    assert _found("no such words") == set()


@BOTH_DATABASES
def test_like_characters_are_taken_literally(tasks):
    _user, t = tasks
    assert _found("100%") == {t["plain"].id}
    assert _found("%") == {t["plain"].id}
    assert _found("e_b") == set()                          # "_" is not a wildcard ("the badges")
    assert _found("e_") == set()
    assert _found("under_score") == {t["plain"].id}
    assert _found('"quoted"') == set()                      # FTS5 syntax in the query is text, not syntax


@BOTH_DATABASES
def test_the_index_follows_edits_and_deletes(tasks):
    from workdesk.models import Task
    from workdesk.services.tasks import update_task
    user, t = tasks
    update_task(user, t["vpn"].id, {"title": "Принтер сломался"})
    assert _found("VPN") == set()
    assert _found("принтер") == {t["vpn"].id}
    Task.delete().where(Task.id == t["roof"].id).execute()
    assert _found("mai nha") == set()


@BOTH_DATABASES
def test_task_number_still_matches(tasks):
    _user, t = tasks
    assert t["printer"].id in _found(f"#{t['printer'].number}")


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_api_q_and_the_search_page_use_the_index(tasks, client, login):
    from workdesk.auth import issue_token
    user, t = tasks
    response = client.get("/api/v1/tasks", query_string={"q": "mai nha"},
                          headers={"Authorization": f"Bearer {issue_token(user)}"})
    assert [item["id"] for item in response.get_json()["items"]] == [t["roof"].id]
    login(client, user)
    page = client.get("/search", query_string={"q": "打印机"}).get_data(as_text=True)
    assert "打印机卡纸" in page and "Mái nhà" not in page


def test_fold():
    from workdesk.search import fold
    assert fold("Tiếng Việt ĐƯỜNG") == "tieng viet duong"
    assert fold("ДОСТУП Ёлка") == "доступ елка"
    assert fold("打印机") == "打印机"


@BOTH_DATABASES
def test_0005_indexes_the_tasks_an_older_database_holds(workdesk_app, make_user, make_department, make_task):
    """Tasks filed before the search index existed are found once ``workdesk db upgrade`` ran 0005."""
    from workdesk.db import db, is_sqlite
    from workdesk.models import SchemaVersion
    from workdesk.registry import get_registry
    from workdesk.schema import upgrade_all
    if is_sqlite():
        for trigger in ("core_task_fts_insert", "core_task_fts_update", "core_task_fts_delete"):
            db.execute_sql(f"DROP TRIGGER {trigger}")
        db.execute_sql("DROP TABLE core_task_fts")
    else:
        db.execute_sql("ALTER TABLE core_task DROP COLUMN search_text")
    department = make_department()
    user = make_user("agent", departments=[department])
    task = make_task(user, department, title="Sửa điều hòa phòng 204")
    SchemaVersion.update(version=4).where(SchemaVersion.owner == "core").execute()
    upgrade_all(get_registry())
    assert _found("sua dieu hoa") == {task.id}


def _insert_tasks(department, user, texts: list[str]) -> None:
    import datetime as dt

    from workdesk.db import utcnow, write_transaction
    from workdesk.models import Sequence, Task
    now = utcnow()
    start = (Task.select(Task.number).order_by(Task.number.desc()).scalar() or 0) + 1
    rows = [{"number": start + i, "title": text, "description": "", "status": "open", "priority": "normal",
             "type": "task", "impact": "", "department": department.id, "reporter": user.id, "fields": {},
             "created_at": now, "updated_at": now, "version": 1,
             "due_at": None if i % 3 == 0 else now + dt.timedelta(hours=(i * 37) % 500)}
            for i, text in enumerate(texts)]
    with write_transaction():
        for chunk in range(0, len(rows), 500):
            Task.insert_many(rows[chunk:chunk + 500]).execute()
        Sequence.update(value=start + len(rows)).where(Sequence.name == "task").execute()


@BOTH_DATABASES
def test_a_common_word_walks_the_lists_order_and_finds_what_gathering_finds(workdesk_app, make_user,
                                                                            make_department):
    """A common word is tested task by task along the list's order (the due-date index), a rare one taken
    from the trigram index: both plans give the same pages, in every order and for LIKE's own characters."""
    from workdesk.db import db, is_sqlite
    from workdesk.models import Task
    from workdesk.search import _text_condition, fold, is_common, matching_tasks
    department = make_department()
    user = make_user("agent", departments=[department])
    texts = [f"Projector {i} in room 10%_b" if i % 4 else f"Kẹt giấy máy in {i}" for i in range(400)]
    _insert_tasks(department, user, texts)
    orders = [(Task.due_at.asc(nulls="LAST"), Task.id), (Task.due_at.desc(nulls="LAST"), Task.id.desc()),
              (Task.id.desc(),)]
    titles = {t.id: t.title for t in Task.select(Task.id, Task.title)}
    for text in ("projector", "PROJECTOR 3", "10%_b", "ket giay", "máy in 12", "nothing like it"):
        expected = {task_id for task_id, title in titles.items() if fold(text) in fold(title)}
        assert {t.id for t in matching_tasks(Task.select(Task.id), text)} == expected, text
        for order in orders:
            chosen = [t.id for t in matching_tasks(Task.select(Task.id), text).order_by(*order).limit(50)]
            if is_sqlite():
                walked = [t.id for t in Task.select(Task.id).where(_text_condition(text, walk=True))
                          .order_by(*order).limit(50)]
                gathered = [t.id for t in Task.select(Task.id).where(_text_condition(text, walk=False))
                            .order_by(*order).limit(50)]
                assert walked == gathered == chosen, (text, order)
            assert len(chosen) == min(50, len(expected)) and set(chosen) <= expected, (text, order)
    if is_sqlite():
        assert is_common("projector") and not is_common("ket giay") and not is_common("nothing like it")
        sql, params = (Task.select(Task.id).where(_text_condition("projector"))
                       .order_by(Task.due_at.asc(nulls="LAST"), Task.id).limit(50).sql())
        plan = " ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "core_task_due_at" in plan and "TEMP B-TREE" not in plan, plan
