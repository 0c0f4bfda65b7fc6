"""Two small real CRMs on 127.0.0.1 for the tests, with state, pagination, rate limits and faults.

``GenericCrm`` speaks the generic REST/JSON protocol of docs/plugins/crm_sync.md; ``FakeBitrix24``
speaks the Bitrix24 REST methods the connector uses (``crm.contact.list`` with ``order``, ``filter``
``>=DATE_MODIFY``/``>DATE_MODIFY``/``EMAIL``/``PHONE`` and ``start``, 50 a page by default;
``crm.*.get``; ``crm.timeline.comment.add``/``list``; ``crm.activity.add`` refusing the ``REST_APP``
provider without an application context, as Bitrix24 does for an inbound webhook) and its limit error
``QUERY_LIMIT_EXCEEDED``. Both are written from the protocols, not from the plugin's code.

Faults are queued per request: ``faults.append(429)`` answers the next request 429 with
``Retry-After: 1``; ``500``, ``"timeout"`` (hold longer than the client waits), ``"drop"`` (take a
POST, then close without answering), ``"duplicate"`` (serve the previous page again),
``"stale"`` (slip an older version of a record into the page), ``"limit503"`` (Bitrix24's
``QUERY_LIMIT_EXCEEDED``).
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "crm-token-123"


class _Server:
    def __init__(self):
        self.lock = threading.RLock()
        self.faults: list = []
        self.requests: list[tuple[float, str, str]] = []  # (time, method, path)
        self.hold_seconds = 2.0
        self.after_page = None  # called after serving a page (to change data during a sync)
        self.gate = None  # a threading.Event a request waits on (a worker killed meanwhile)
        self.gate_reached = threading.Event()
        self.hold_pages_after = None  # with ``gate``: the list requests after that many wait (GETs)
        self.server = None

    def start(self, handler_class) -> "_Server":
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.server.daemon_threads = True
        self.server.fake = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_port

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def next_fault(self):
        with self.lock:
            return self.faults.pop(0) if self.faults else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    @property
    def fake(self):
        return self.server.fake

    def answer(self, status: int, data, headers: dict | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def fault(self, fault) -> bool:
        """Apply a transport fault; True when the request is answered (or dropped) by it."""
        if fault == 429:
            self.answer(429, {"error": "rate_limited"}, {"Retry-After": "1"})
        elif fault == 500:
            self.answer(500, {"error": "internal"})
        elif fault == "timeout":
            time.sleep(self.fake.hold_seconds)
            self.close_connection = True
        elif fault == "limit503":
            self.answer(503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
        else:
            return False
        return True


# -- the generic CRM ---------------------------------------------------------------------------

class GenericCrm(_Server):
    """Records per resource; each change takes the next sequence number; the list is keyset-paged by it."""

    def __init__(self):
        super().__init__()
        self.seq = itertools.count(1)
        self.records: dict[str, dict[str, dict]] = {"contacts": {}, "companies": {}}
        self.history: dict[tuple[str, str], list[dict]] = {}
        self.activities: dict[str, dict] = {}  # by Idempotency-Key
        self.activity_posts = 0
        self.last_page: dict[str, tuple] = {}
        self.cursors_asked: list = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def put(self, resource: str, record_id: str, **fields) -> dict:
        """Create or change a record (a new version and position in the change order)."""
        with self.lock:
            current = dict(self.records[resource].get(record_id, {"id": record_id, "emails": [], "phones": []}))
            current.update(fields)
            current["version"] = current["seq"] = next(self.seq)
            self.records[resource][record_id] = current
            self.history.setdefault((resource, record_id), []).append(copy.deepcopy(current))
            return current

    def delete(self, resource: str, record_id: str) -> None:
        self.put(resource, record_id, deleted=True)

    def merge(self, loser: str, survivor: str) -> None:
        """The CRM's merge: the survivor takes the loser's emails; the loser becomes a tombstone."""
        with self.lock:
            loser_record = self.records["contacts"][loser]
            emails = self.records["contacts"][survivor]["emails"] + [
                e for e in loser_record["emails"] if e not in self.records["contacts"][survivor]["emails"]]
            self.put("contacts", survivor, emails=emails)
            self.put("contacts", loser, merged_into=survivor)

    def forget(self, resource: str, record_id: str) -> None:
        """A deletion the change feed never reports (only a full reconcile can notice it)."""
        with self.lock:
            self.records[resource].pop(record_id)

    def page(self, resource: str, cursor: str | None, limit: int) -> dict:
        with self.lock:
            after = int(cursor or 0)
            rows = sorted((r for r in self.records[resource].values() if r["seq"] > after), key=lambda r: r["seq"])
            items = [{k: v for k, v in r.items() if k != "seq"} for r in rows[:limit]]
            next_cursor = str(rows[:limit][-1]["seq"]) if rows[:limit] else (cursor or "0")
            return {"items": items, "next_cursor": next_cursor, "has_more": len(rows) > limit,
                    "total": len(self.records[resource])}


class GenericHandler(_Handler):
    def authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.answer(401, {"error": "unauthorized"})
            return False
        return True

    def do_GET(self):
        fake: GenericCrm = self.fake
        fake.requests.append((time.monotonic(), "GET", self.path))
        special = fake.next_fault()
        if self.fault(special):
            return
        if not self.authorised():
            return
        parts = urlsplit(self.path)
        resource = parts.path.rsplit("/", 1)[-1]
        if resource not in fake.records:
            return self.answer(404, {"error": "not_found"})
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if "email" in query or "phone" in query:
            with fake.lock:
                found = [r for r in fake.records[resource].values() if not r.get("deleted") and (
                    query.get("email") in r["emails"] or query.get("phone") in r["phones"])]
            return self.answer(200, {"items": [{k: v for k, v in r.items() if k != "seq"} for r in found]})
        fake.cursors_asked.append((resource, query.get("cursor")))
        if fake.gate is not None and fake.hold_pages_after is not None and \
                len(fake.cursors_asked) > fake.hold_pages_after:
            fake.gate_reached.set()
            fake.gate.wait(30)  # the puller is killed meanwhile; this page is never answered
            self.close_connection = True
            return
        if special == "duplicate" and resource in fake.last_page:
            return self.answer(200, fake.last_page[resource])
        page = fake.page(resource, query.get("cursor"), int(query.get("limit", 50)))
        if special == "stale":
            older = [h[0] for key, h in fake.history.items() if key[0] == resource and len(h) > 1]
            page["items"] = [{k: v for k, v in older[0].items() if k != "seq"}] + page["items"] if older else page["items"]
        fake.last_page[resource] = page
        self.answer(200, page)
        if fake.after_page is not None:
            hook, fake.after_page = fake.after_page, None
            hook()

    def do_POST(self):
        fake: GenericCrm = self.fake
        fake.requests.append((time.monotonic(), "POST", self.path))
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fault = fake.next_fault()
        if self.fault(fault):
            return
        if not self.authorised():
            return
        key = self.headers.get("Idempotency-Key", "")
        data = json.loads(body)
        with fake.lock:
            fake.activity_posts += 1
            if key not in fake.activities:
                fake.activities[key] = {"id": f"act-{len(fake.activities) + 1}", **data}
            activity = fake.activities[key]
        if fake.gate is not None and fake.hold_pages_after is None:
            fake.gate_reached.set()
            fake.gate.wait(30)
            self.close_connection = True
            return
        if fault == "drop":
            self.close_connection = True  # the CRM kept it; the answer never arrives
            return
        if data.get("kind") == "refuse":
            return self.answer(400, {"error": "bad_request"})
        self.answer(201, {"id": activity["id"]})


# -- Bitrix24 -------------------------------------------------------------------------------------

CODE = "k7s9webhookcode"
TIMELINE_TYPES = ("lead", "deal", "contact", "company", "order")
PORTAL_ZONE = dt.timezone(dt.timedelta(hours=3))  # the portal's times carry its offset (Moscow)


class FakeBitrix24(_Server):
    def __init__(self, page_size: int = 50):
        super().__init__()
        self.page_size = page_size
        self.ids = itertools.count(1)
        self.clock = dt.datetime(2026, 11, 1, 9, 0, tzinfo=PORTAL_ZONE)
        self.entities: dict[str, dict[int, dict]] = {"contact": {}, "company": {}}
        self.comments: list[dict] = []  # crm.timeline.comment.add, in order
        self.calls: list[str] = []
        self.history: list[dict] = []  # earlier versions of changed records (for "stale" pages)
        self.last_list: dict[str, dict] = {}  # the last answer per list method (for "duplicate" pages)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/rest/1/{CODE}/"

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return self.clock.isoformat()

    def add(self, entity: str, **fields) -> int:
        with self.lock:
            new_id = next(self.ids)
            self.entities[entity][new_id] = {"ID": str(new_id), "DATE_MODIFY": self.tick(), **fields}
            return new_id

    def update(self, entity: str, entity_id: int, **fields) -> None:
        with self.lock:
            self.history.append(copy.deepcopy(self.entities[entity][entity_id]))
            self.entities[entity][entity_id].update(fields, DATE_MODIFY=self.tick())

    def remove(self, entity: str, entity_id: int) -> None:
        with self.lock:
            self.entities[entity].pop(entity_id)

    def merge(self, loser: int, survivor: int) -> None:
        """crm.entity.mergeBatch: the survivor gets the loser's multifields; the loser is deleted."""
        with self.lock:
            keep = self.entities["contact"][survivor]
            gone = self.entities["contact"].pop(loser)
            for key in ("EMAIL", "PHONE"):
                values = [v["VALUE"] for v in keep.get(key, [])]
                keep[key] = keep.get(key, []) + [v for v in gone.get(key, []) if v["VALUE"] not in values]
            keep["DATE_MODIFY"] = self.tick()

    @staticmethod
    def matches(item: dict, filters: dict) -> bool:
        for key, wanted in filters.items():
            if key.startswith((">=", ">")):
                op, field = (">=", key[2:]) if key.startswith(">=") else (">", key[1:])
                value = dt.datetime.fromisoformat(item[field])
                limit = dt.datetime.fromisoformat(wanted)
                if not (value >= limit if op == ">=" else value > limit):
                    return False
            elif key in ("EMAIL", "PHONE"):
                if wanted not in [v["VALUE"] for v in item.get(key, [])]:
                    return False
            elif str(item.get(key)) != str(wanted):
                return False
        return True

    def list(self, entity: str, params: dict) -> dict:
        with self.lock:
            rows = [r for r in self.entities[entity].values() if self.matches(r, params.get("filter") or {})]
            order = params.get("order") or {"ID": "ASC"}
            for field in reversed(list(order)):
                key = (lambda r, f=field: dt.datetime.fromisoformat(r[f])) if field == "DATE_MODIFY" else \
                      (lambda r, f=field: int(r[f]))
                rows.sort(key=key, reverse=order[field].upper() == "DESC")
            start = int(params.get("start") or 0)
            chunk = copy.deepcopy(rows[start:start + self.page_size])
            answer = {"result": chunk, "total": len(rows), "time": {"start": time.time()}}
            if start + self.page_size < len(rows):
                answer["next"] = start + self.page_size
            return answer


class BitrixHandler(_Handler):
    def do_POST(self):
        fake: FakeBitrix24 = self.fake
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fake.requests.append((time.monotonic(), "POST", self.path))
        prefix = f"/rest/1/{CODE}/"
        if not self.path.startswith(prefix) or not self.path.endswith(".json"):
            return self.answer(401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"})
        method = self.path[len(prefix):-5]
        fake.calls.append(method)
        lists = sum(1 for m in fake.calls if m in ("crm.contact.list", "crm.company.list"))
        if fake.gate is not None and fake.hold_pages_after is not None and \
                method in ("crm.contact.list", "crm.company.list") and lists > fake.hold_pages_after:
            fake.gate_reached.set()
            fake.gate.wait(30)  # the puller is killed meanwhile; this page is never answered
            self.close_connection = True
            return
        with fake.lock:  # a "drop" waits for the next crm.timeline.comment.add
            fault = None if fake.faults[:1] == ["drop"] and method != "crm.timeline.comment.add" else fake.next_fault()
        if self.fault(fault):
            return
        params = json.loads(body or b"{}")
        with fake.lock:
            if method in ("crm.contact.list", "crm.company.list"):
                if fault == "duplicate" and method in fake.last_list:
                    answer = fake.last_list[method]
                else:
                    answer = fake.list(method.split(".")[1], params)
                    if fault == "stale" and fake.history and method == "crm.contact.list":
                        answer = {**answer, "result": [copy.deepcopy(fake.history[0])] + answer["result"]}
                fake.last_list[method] = answer
            elif method in ("crm.contact.get", "crm.company.get"):
                item = fake.entities[method.split(".")[1]].get(int(params.get("id", 0)))
                if item is None:
                    return self.answer(400, {"error": "", "error_description": "Not found"})
                answer = {"result": copy.deepcopy(item)}
            elif method == "crm.timeline.comment.list":
                wanted = params.get("filter") or {}
                if not wanted.get("ENTITY_ID") or wanted.get("ENTITY_TYPE") not in TIMELINE_TYPES:
                    return self.answer(400, {"error": "", "error_description": "ENTITY_ID and ENTITY_TYPE are required"})
                rows = [c for c in fake.comments if str(c["ENTITY_ID"]) == str(wanted["ENTITY_ID"])
                        and c["ENTITY_TYPE"] == wanted["ENTITY_TYPE"]]
                rows.sort(key=lambda c: int(c["ID"]), reverse=(params.get("order") or {}).get("ID") == "DESC")
                start = int(params.get("start") or 0)
                answer = {"result": [{k: c[k] for k in params.get("select") or c} for c in rows[start:start + 50]],
                          "total": len(rows)}
                if start + 50 < len(rows):
                    answer["next"] = start + 50
            elif method == "crm.timeline.comment.add":
                fields = params.get("fields")  # only "fields", lower case, since crm 23.100.0
                if not isinstance(fields, dict) or not fields.get("ENTITY_ID") or \
                        fields.get("ENTITY_TYPE") not in TIMELINE_TYPES or not fields.get("COMMENT"):
                    return self.answer(400, {"error": "", "error_description": "Required fields"})
                comment = {"ID": str(len(fake.comments) + 1), **fields}
                fake.comments.append(comment)
                answer = {"result": int(comment["ID"])}
            elif method == "crm.activity.add":
                if ((params.get("fields") or {}).get("PROVIDER_ID")) == "REST_APP":  # an inbound webhook is no app
                    return self.answer(400, {"error": "", "error_description": "Application context required."})
                return self.answer(400, {"error": "ERROR_CORE", "error_description": "COMMUNICATIONS required"})
            else:
                return self.answer(404, {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found"})
        if fault == "drop":
            self.close_connection = True  # Bitrix24 added it; the answer never arrives
            return
        if fake.gate is not None and fake.hold_pages_after is None and method == "crm.timeline.comment.add":
            fake.gate_reached.set()
            fake.gate.wait(30)
            self.close_connection = True
            return
        self.answer(200, answer)
        if fake.after_page is not None and method.endswith(".list"):
            hook, fake.after_page = fake.after_page, None
            hook()


def start_generic() -> GenericCrm:
    return GenericCrm().start(GenericHandler)


def start_bitrix(page_size: int = 50) -> FakeBitrix24:
    return FakeBitrix24(page_size).start(BitrixHandler)
