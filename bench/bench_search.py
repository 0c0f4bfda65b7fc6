"""`q` search at 100,000 tasks on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), beside the old scan
(``title LIKE '%q%' OR description LIKE '%q%'``) as the reference. Target: a page of results under 50 ms.

For each query it prints the median time of the page query alone (50 tasks, newest first, as the API
lists them), the same page sorted by due date (two tasks in three have one), that page by the plan that
gathers every hit and sorts them ("gather+sort": what SQLite did for every word before common words
walked the due-date order), the whole ``GET /api/v1/tasks?q=`` request through the test client (newest
first, and ``sort=due``), and for the scan the page query alone (the scan cannot fold diacritics: "mai
nha" finds nothing there).

    .venv/bin/python bench/bench_search.py [--tasks 100000] [--repeat 15] [--postgres URL] [--only sqlite|postgresql]

PostgreSQL runs when ``--postgres`` or ``TEST_POSTGRES_URL`` names a server; it works in a schema of its
own, dropped afterwards.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from urllib.parse import quote

# Words of the briefs behind Workdesk, so that some queries are rare and some common.
WORDS = {
    "zh": ["打印机", "卡纸", "网络", "断开", "服务器", "无法", "登录", "邮箱", "空调", "漏水", "会议室", "投影仪",
           "更换", "灯泡", "报销", "审批", "合同", "续签", "电脑", "蓝屏"],
    "ru": ["Принтер", "не печатает", "VPN", "доступ", "сервер", "ПАРОЛЬ", "сброс", "кондиционер", "протечка",
           "переговорная", "проектор", "замена", "лампа", "счёт", "оплата", "договор", "ноутбук", "сеть"],
    "vi": ["Máy in", "kẹt giấy", "mạng", "mất kết nối", "máy chủ", "không đăng nhập được", "hộp thư",
           "điều hòa", "dột nước", "phòng họp", "máy chiếu", "thay", "bóng đèn", "hoàn ứng", "phê duyệt",
           "hợp đồng", "máy tính", "đường ống"],
    "en": ["printer", "jammed", "network", "down", "server", "cannot", "log in", "mailbox", "air conditioning",
           "leak", "meeting room", "projector", "replace", "bulb", "invoice", "approval", "contract", "laptop"],
}
ASSETS = ["PRN", "AC", "LAP", "SRV"]
QUERIES = [("asset (rare)", "LAP-0420"), ("zh 3 chars", "打印机"), ("zh 2 chars", "卡纸"), ("ru any case", "принтер"),
           ("ru rare", "переговорная"), ("vi accents", "Máy in"), ("vi folded", "may in"),
           ("vi folded rare", "duong ong"), ("en", "projector"), ("no match", "xyzzy"), ("#number", "#4242")]


def build(url: str, instance: str, count: int):
    from workdesk.app import create_app
    from workdesk.db import db, utcnow
    from workdesk.models import Sequence, Task
    from workdesk.schema import upgrade_all
    from workdesk.services.users import create_department, create_user
    app = create_app({"instance_path": instance, "secret_key": "bench-secret-key-0123456789",
                      "database_url": url, "queue_url": "memory://", "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    with app.app_context():
        departments = [create_department(None, name=f"Dept {i}") for i in range(10)]
        admin = create_user(None, email="admin@example.com", name="Admin", password="bench-password",
                            role="admin")
        rng, now = random.Random(7), utcnow()
        rows = []
        for i in range(count):
            words = rng.choice(list(WORDS.values()))
            asset = f"{rng.choice(ASSETS)}-{rng.randrange(2000):04d}"  # a rare word: one task in ~2000
            title = " ".join(rng.sample(words, 3)) + " " + asset
            description = " ".join(rng.choice(list(WORDS.values()))[rng.randrange(18)] for _ in range(12))
            # Two tasks in three have a due date within a month either side of now; the rest have none.
            due = now + dt.timedelta(minutes=rng.randrange(-43200, 43200)) if rng.random() < 2 / 3 else None
            rows.append({"number": i + 1, "title": title[:200], "description": description, "status": "open",
                         "due_at": due,
                         "priority": "normal", "type": "task", "impact": "", "department": departments[i % 10].id,
                         "reporter": admin.id, "fields": {}, "created_at": now - dt.timedelta(seconds=count - i),
                         "updated_at": now, "version": 1})
        started = time.perf_counter()
        with db.atomic():
            for start in range(0, count, 2000):  # the index triggers (SQLite) fold every row on the way in
                Task.insert_many(rows[start:start + 2000]).execute()  # PostgreSQL takes 65,535 parameters
            Sequence.update(value=count).where(Sequence.name == "task").execute()
        if not isinstance(db.obj, __import__("peewee").SqliteDatabase):
            db.execute_sql("ANALYZE core_task")
        print(f"  {count} tasks inserted and indexed in {time.perf_counter() - started:.1f} s", flush=True)
    return app, admin


def median_ms(fn, repeat: int) -> float:
    fn()  # warm caches and prepared plans
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(label: str, url: str, instance: str, count: int, repeat: int) -> None:
    from workdesk.auth import issue_token
    from workdesk.models import Task
    from workdesk.search import _text_condition, matching_tasks
    print(f"== {label}", flush=True)
    app, admin = build(url, instance, count)
    token = issue_token(admin)
    client = app.test_client()
    print(f"  {'query':<16} {'hits':>6} {'index page ms':>14} {'by due ms':>10} {'gather+sort ms':>15} "
          f"{'API page ms':>12} {'API by due ms':>14} {'old scan ms':>12} {'scan hits':>10}")
    with app.app_context():
        plain = lambda: client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).get_data()
        print(f"  {'(no q: API page)':<16} {count:>6} {'':>14} {'':>10} {median_ms(plain, repeat):>12.1f}", flush=True)
        for name, text in QUERIES:
            # The API's default order (newest first by id), and the worst case: a sort the index does not follow.
            page = lambda: list(matching_tasks(Task.select(), text).order_by(Task.id.desc()).limit(50))
            due = lambda: list(matching_tasks(Task.select(), text).order_by(Task.due_at.asc(nulls="LAST"), Task.id)
                               .limit(50))
            # The plan the search used for every word before common words walked the order: every hit
            # gathered from the index, then sorted (SQLite; PostgreSQL's planner chooses by itself).
            gathered = lambda: list(Task.select().where(_text_condition(text, walk=False))
                                    .order_by(Task.due_at.asc(nulls="LAST"), Task.id).limit(50))
            hits = matching_tasks(Task.select(), text).count()
            scan_query = Task.select().where(Task.title.contains(text) | Task.description.contains(text)) \
                .order_by(Task.id.desc())
            scan = lambda: list(scan_query.limit(50))
            api = lambda: client.get("/api/v1/tasks", query_string={"q": text},
                                     headers={"Authorization": f"Bearer {token}"}).get_data()
            api_due = lambda: client.get("/api/v1/tasks", query_string={"q": text, "sort": "due"},
                                         headers={"Authorization": f"Bearer {token}"}).get_data()
            print(f"  {name:<16} {hits:>6} {median_ms(page, repeat):>14.1f} {median_ms(due, repeat):>10.1f} "
                  f"{median_ms(gathered, repeat):>15.1f} {median_ms(api, repeat):>12.1f} "
                  f"{median_ms(api_due, repeat):>14.1f} "
                  f"{median_ms(scan, repeat):>12.1f} {scan_query.count():>10}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="measure one database only")
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as instance:
            measure("SQLite (FTS5 trigram)", f"sqlite:///{instance}/workdesk.db", instance, args.tasks, args.repeat)
    if args.only == "sqlite":
        return
    if not args.postgres:
        print("== PostgreSQL skipped: pass --postgres URL or set TEST_POSTGRES_URL")
        return
    import psycopg
    from workdesk.db import db
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in args.postgres else "?"
        with tempfile.TemporaryDirectory() as instance:
            measure("PostgreSQL (pg_trgm)", f"{args.postgres}{sep}options={quote(f'-csearch_path={schema}')}",
                    instance, args.tasks, args.repeat)
    finally:
        if not db.is_closed():
            db.close()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
