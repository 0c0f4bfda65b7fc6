"""Hostile input on the pages, the forms and the admin panel (#11 item 14): no 500, on SQLite and PostgreSQL.

The test crawls the pages an admin reaches (the team pages, the admin panel, every enabled plugin's
pages), collects each POST form with the values it is rendered with, and lets Hypothesis post them
with one field replaced by a hostile value (integers beyond 64 bits, Unicode digits, NUL, unpaired
surrogates sent as their UTF-8-like bytes, time zones zoneinfo loads but nothing renders, dates
beyond UTC's range, long text), or GET a list page with hostile query arguments. Every answer is a
page or a redirect, never a server error.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workdesk.auth import issue_token
from workdesk.models import Task, User
from workdesk.registry import get_registry, plugin_settings

HOSTILE = ["99999999999999999999", "9223372036854775808", "2147483648", "-1", "0", "²", "١٢", "1e309", "nan",
           "\x00", "a\x00b", "\ud800", "x\udfff", "x" * 25000, "9999-12-31T23:59", "9999-12-31T23:59:59-14:00",
           "0001-01-01T00:00", "Factory", "localtime", "posix/Europe/Berlin", "right/UTC", "Not/AZone", "",
           " ", "%", "<script>", "1,99999999999999999999", "FREQ=SECONDLY", "9999-12-31",
           "9" * 5000]  # beyond the digits int() converts
QUERY_NAMES = ["q", "before", "id", "page", "page_size", "sort", "desc", "search", "saved", "view", "cursor", "after",
               "status", "department", "assignee", "due", "due_before", "due_after", "priority", "tab", "layout",
               "next", "title", "policy_id", "count", "user_id", "flt0_0", "flt0_1", "flt1_2", "flt0_3", "flt2_5"]
HOSTILE_VALUES = st.sampled_from(HOSTILE) | st.text(max_size=30) | st.integers(-(2**70), 2**70).map(str)
SKIPPED_ACTIONS = ("/logout", "/account/password")  # would end the session the crawl runs in


class FormCollector(HTMLParser):
    """The POST forms of a page, each as (action, [(name, value)]) with the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]], dict[str, list[str]]]] = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = (attrs.get("action") or "", [], {})
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                self._form[2].setdefault(attrs["name"], []).append(attrs.get("value") or "y")
                return
            self._form[1].append((attrs["name"], attrs.get("value") or ""))
        elif tag == "button" and attrs.get("name"):
            self._form[2].setdefault(attrs["name"], []).append(attrs.get("value") or "")
        elif tag == "textarea" and attrs.get("name"):
            self._form[1].append((attrs["name"], ""))
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
        elif tag == "option" and self._select:
            self._form[2].setdefault(self._select, []).append(attrs.get("value") or "")
            if "selected" in attrs:
                self._form[1].append((self._select, attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def collect_forms(client, urls):
    """Every distinct POST form on ``urls`` (one per action path shape and set of fields)."""
    forms, seen = [], set()
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        parser = FormCollector()
        parser.feed(response.get_data(as_text=True))
        for action, values, options in parser.forms:
            action = action or url
            path = urlsplit(action).path
            names = tuple(sorted({name for name, _ in values} | set(options)))
            key = (re.sub(r"\d+", "N", path), names)
            if path.startswith(SKIPPED_ACTIONS) or key in seen:
                continue
            seen.add(key)
            # A select or button without a chosen value sends its first option, as a browser does.
            chosen = {name for name, _ in values}
            values = values + [(name, choices[0]) for name, choices in options.items()
                               if name not in chosen and name != "csrf_token" and choices]
            forms.append((action, values, [n for n in names if n != "csrf_token"]))
    return forms


def encoded(pairs) -> bytes:
    # Lone surrogates travel as the bytes a careless client would send; Werkzeug must cope with them.
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")


@pytest.fixture
def site(workdesk_app, make_user, make_department, make_task, enable_plugin, login):
    for info in get_registry().usable():  # every installed plugin's pages and admin views are fuzzed too
        if not info.plugin.missing_configuration(plugin_settings(info.name)):
            enable_plugin(info.name)
    sales = make_department("Sales")
    admin = make_user("admin", [sales], name="Ada Admin", timezone="America/New_York")
    agent = make_user("agent", [sales], name="Al Agent")
    requester = make_user("requester", [sales], name="Rita Requester")
    task = make_task(requester, sales, title="Printer jams", watcher_ids=[agent.id])
    make_task(agent, sales, title="Second task")
    client = workdesk_app.test_client()
    login(client, admin)
    lists = sorted({rule.rule for rule in workdesk_app.url_map.iter_rules()
                    if "GET" in rule.methods and "<" not in rule.rule
                    and not rule.rule.startswith(("/api/", "/static", "/logout"))})
    pages = lists + [f"/tasks/{task.id}", f"/compliance/tasks/{task.id}/review", f"/admin/tasks/edit/?id={task.id}",
                     f"/admin/users/edit/?id={agent.id}", f"/admin/departments/edit/?id={sales.id}",
                     "/admin/users/new/", "/admin/departments/new/", "/admin/roles/new/", "/admin/absences/new/",
                     "/admin/recurring/rules/new/", "/admin/compliance_review/policies/new/",
                     "/admin/compliance_review/stages/new/"]
    forms = collect_forms(client, pages)
    assert len(forms) > 20 and any(action.startswith("/admin/") for action, _v, _n in forms)
    return client, forms, lists, admin


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_forms_and_query_strings_never_answer_500(site, data):
    client, forms, lists, admin = site
    User.update(is_active=True, role=admin.role).where(User.id == admin.id).execute()  # an example may demote them
    if data.draw(st.integers(0, 3), label="kind") == 0:
        url = data.draw(st.sampled_from(lists), label="page")
        names = data.draw(st.lists(st.sampled_from(QUERY_NAMES), min_size=1, max_size=3, unique=True), label="args")
        query = [(name, data.draw(HOSTILE_VALUES, label=name)) for name in names]
        response = client.get(url, query_string=encoded(query).decode("ascii"))
        where = f"GET {url}?{encoded(query)[:200]!r}"
    else:
        action, values, names = data.draw(st.sampled_from(forms), label="form")
        hostile = data.draw(st.sampled_from(names), label="field") if names else None
        value = data.draw(HOSTILE_VALUES, label="value")
        pairs = [(name, value if name == hostile else current) for name, current in values]
        if hostile is not None and hostile not in {name for name, _ in values}:
            pairs.append((hostile, value))
        response = client.post(action, data=encoded(pairs), content_type="application/x-www-form-urlencoded")
        where = f"POST {action} {hostile}={value[:40]!r}"
    event(f"status {response.status_code}")
    assert response.status_code < 500, where


def test_a_stored_zone_pages_cannot_render_is_shown_as_utc(client, login, make_department, make_user, make_task):
    dept = make_department("Sales")
    person = make_user("admin", [dept])
    task = make_task(person, dept, title="Due soon")
    login(client, person)
    for zone in ("Factory", "localtime", "posix/Europe/Berlin", "right/UTC"):
        User.update(timezone=zone).where(User.id == person.id).execute()  # stored before zones were checked
        for url in ("/", f"/tasks/{task.id}", "/account", "/search", "/notifications", "/admin/",
                    f"/admin/users/edit/?id={person.id}"):
            response = client.get(url)
            assert response.status_code == 200, (zone, url)
        assert re.search(r'<option selected value="UTC">', client.get("/account").get_data(as_text=True)), zone


@pytest.mark.parametrize("zone", ["Factory", "localtime", "posix/Europe/Berlin", "right/UTC", "Not/AZone"])
def test_zones_nothing_can_render_are_refused_everywhere(zone, client, login, make_user):
    person = make_user("admin")
    login(client, person)
    response = client.post("/account/preferences", data={"name": "Ada", "timezone": zone, "locale": "en"})
    assert response.status_code == 400 and User.get_by_id(person.id).timezone == "UTC"
    response = client.patch(f"/api/v1/users/{person.id}", json={"timezone": zone},
                            headers={"Authorization": f"Bearer {issue_token(person)}"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"timezone": ["Not an IANA time zone (e.g. Europe/Sofia)."]}
    from workdesk.errors import ValidationFailed
    from workdesk.services.users import update_user
    with pytest.raises(ValidationFailed) as refused:
        update_user(person, person.id, {"timezone": zone})
    assert "timezone" in refused.value.fields
    assert User.get_by_id(person.id).timezone == "UTC"


def test_a_due_date_utc_cannot_hold_is_a_field_error(client, login, make_department, make_user):
    dept = make_department("Sales")
    person = make_user("agent", [dept], timezone="America/New_York")
    login(client, person)
    response = client.post("/tasks/new", data={"title": "Far away", "department_id": str(dept.id),
                                               "priority": "normal", "due_at": "9999-12-31T23:59"})
    assert response.status_code == 422
    assert "Not a date and time Workdesk can store." in response.get_data(as_text=True)
    assert Task.select().count() == 0


@pytest.mark.parametrize("url", ["/tasks/99999999999999999999", "/tasks/9223372036854775808",
                                 "/tasks/０１", "/notifications/99999999999999999999/read"])
def test_path_ids_beyond_any_row_are_404(url, client, login, make_user):
    login(client, make_user("agent"))
    assert client.open(url, method="POST" if url.endswith("/read") else "GET").status_code == 404


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=-1", "page=" + "9" * 5000,
                                   "id=99999999999999999999", "id=²", "sort=0", "sort=" + "9" * 5000,
                                   "flt0_0=99999999999999999999", "flt0_0=1e309"])
@pytest.mark.parametrize("view", ["users", "absences", "comments", "tasks"])
def test_admin_list_arguments_beyond_the_database_are_client_errors(view, query, client, login, make_user):
    login(client, make_user("admin"))
    path = f"/admin/{view}/edit/" if query.startswith("id=") else f"/admin/{view}/"
    response = client.get(f"{path}?{query}")
    assert response.status_code in (200, 302, 400, 404), (path, query, response.status_code)


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_nul_in_a_form_is_a_field_error(client, login, make_department, make_user):
    dept = make_department("Sales")
    login(client, make_user("agent", [dept]))
    response = client.post("/tasks/new", data={"title": "Bad\x00title", "department_id": str(dept.id),
                                               "priority": "normal"})
    assert response.status_code == 400  # the form's errors, next to the field
    assert "Must not contain NUL characters." in response.get_data(as_text=True)
    assert Task.select().count() == 0


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_every_list_page_takes_every_hostile_query_argument(site):
    # The deterministic sweep next to the fuzz: each page, each usual argument, each hostile constant.
    client, _forms, lists, admin = site
    failures = []
    for url in lists:
        for name in ("q", "search", "id", "page", "before", "saved", "flt0_0"):
            for value in ("a\x00b", "99999999999999999999", "²", "-1"):
                User.update(is_active=True, role=admin.role).where(User.id == admin.id).execute()
                status = client.get(url, query_string=encoded([(name, value)]).decode("ascii")).status_code
                if status >= 500:
                    failures.append((url, name, value))
    assert failures == [], failures


def test_nul_in_an_admin_bulk_action_is_a_message_not_a_500(client, login, make_user):
    # Found by the fuzz: the action form's NUL error reached Flask-Admin's flash as a lazy string.
    login(client, make_user("admin"))
    response = client.post("/admin/absences/action/", data={"action": "\x00", "url": "/admin/absences/"})
    assert response.status_code == 302
