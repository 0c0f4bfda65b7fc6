"""Translations: the catalogs are complete and sound, and pages, API errors and dates follow the user.

Compiled ``.mo`` files are not committed. These tests compile the catalogs themselves into a temporary
directory and point the app at it, so they pass from a clean clone with or without ``make translations``.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from workdesk.dates import instant_pattern
from workdesk.extensions import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]  # English is the source language
PLACEHOLDER = re.compile(r"%\((\w+)\)([-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])")
# Every component with a catalog of its own: the core (with the admin panel), each first-party plugin,
# the example plugin and the test plugins. The folder holding ``translations/`` is its source.
CATALOG_FOLDERS = sorted(path for base in ("core", "plugins", "examples", "tests")
                         for path in (ROOT / base).rglob("translations") if path.is_dir()
                         and ".venv" not in path.parts)
COMPONENTS = {str(folder.parent.relative_to(ROOT)): folder for folder in CATALOG_FOLDERS}
SOURCES = {"core": ["core", "admin"]}


def _catalog(lang: str, component: str = "core"):
    with (COMPONENTS[component] / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _languages(component: str) -> list[str]:
    return sorted(p.name for p in COMPONENTS[component].iterdir() if (p / "LC_MESSAGES" / "messages.po").exists())


CATALOGS = [(component, lang) for component in COMPONENTS for lang in _languages(component)]


def _forms(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@pytest.fixture(scope="session")
def compiled_translations(tmp_path_factory) -> str:
    """Every catalog compiled to ``<tmp>/<component>/<lang>/LC_MESSAGES/messages.mo`` (fuzzy entries left
    out, as pybabel does), as a BABEL_TRANSLATION_DIRECTORIES value: the plugins', then the core's."""
    out = tmp_path_factory.mktemp("translations")
    folders = []
    for component in sorted(COMPONENTS, key=lambda c: c == "core"):
        folder = out / component.replace("/", "_")
        folders.append(str(folder))
        for lang in _languages(component):
            target = folder / lang / "LC_MESSAGES"
            target.mkdir(parents=True)
            with (target / "messages.mo").open("wb") as f:
                write_mo(f, _catalog(lang, component))
    return ";".join(folders)


@pytest.fixture
def workdesk_config(workdesk_config, compiled_translations):
    return {**workdesk_config, "BABEL_TRANSLATION_DIRECTORIES": compiled_translations}


@pytest.fixture
def workdesk_app(workdesk_app):
    # Flask-Babel keeps loaded catalogs per locale on the module-level Babel object, which outlives
    # one test app: forget them so these tests read the catalogs compiled above, and so later tests
    # do not inherit them.
    from workdesk.extensions import babel
    babel.domain_instance.cache.clear()
    yield workdesk_app
    babel.domain_instance.cache.clear()


# -- the catalogs ---------------------------------------------------------------------------------

def test_every_component_ships_every_language():
    assert {"core", "plugins/recurring", "plugins/email", "plugins/webhooks",
            "examples/workdesk-hello/workdesk_hello"} <= set(COMPONENTS)
    for component in COMPONENTS:
        if component.startswith(("core", "plugins/")):
            # every language the app offers; a catalog may arrive before its language is offered
            assert set(TRANSLATED) <= set(_languages(component)), component


@pytest.mark.parametrize("component,lang", CATALOGS)
def test_catalog_compiles_without_errors(component, lang, tmp_path):
    catalog = _catalog(lang, component)
    errors = [(message.id, [str(e) for e in errs]) for message, errs in catalog.check()]
    assert errors == []
    with (tmp_path / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    assert (tmp_path / "messages.mo").stat().st_size > 100


@pytest.mark.parametrize("component,lang", CATALOGS)
def test_catalog_is_fully_translated(component, lang):
    catalog = _catalog(lang, component)
    messages = [m for m in catalog if m.id]
    assert messages
    assert catalog.num_plurals == get_plural(lang).num_plurals, \
        f"{component}/{lang}: Plural-Forms differ from the locked Babel's; run `make messages`"
    fuzzy = [m.id for m in messages if m.fuzzy]
    untranslated = [m.id for m in messages if not all(_forms(m.string))]
    assert fuzzy == [] and untranslated == []
    for message in messages:
        if message.pluralizable:
            assert len(message.string) == catalog.num_plurals, message.id


@pytest.mark.parametrize("component,lang", CATALOGS)
def test_translations_keep_every_placeholder(component, lang):
    wrong = []
    for message in _catalog(lang, component):
        if not message.id:
            continue
        expected = {p for msgid in _forms(message.id) for p in PLACEHOLDER.findall(msgid)}
        for form in _forms(message.string):
            if set(PLACEHOLDER.findall(form)) != expected:
                wrong.append((message.id, form))
    assert wrong == []


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_catalogs_hold_every_string_of_their_source(component, tmp_path):
    """A string added to the code but not to its component's catalogs would show in English: run
    `make messages`."""
    pot = tmp_path / "messages.pot"
    sources = [str(ROOT / folder) for folder in SOURCES.get(component, [component])]
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), *sources])
    with pot.open("rb") as f:
        source = {m.id for m in read_po(f) if m.id}
    assert source
    for lang in _languages(component):
        missing = source - {m.id for m in _catalog(lang, component) if m.id}
        assert missing == set(), f"{component}/{lang} catalog lacks strings; run `make messages` and translate them"


# -- the application ------------------------------------------------------------------------------

def test_login_page_follows_accept_language(client):
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Anmelden" in page and "Passwort" in page and "Log in" not in page

    page = client.get("/login", headers={"Accept-Language": "bg"}).get_data(as_text=True)
    assert '<html lang="bg">' in page and "Вход" in page and "Парола" in page


def test_login_page_unknown_language_falls_back_to_default(client):
    page = client.get("/login", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page


def test_user_locale_wins_over_the_browser(client, make_user, login, make_department):
    user = make_user("agent", departments=[make_department()], locale="bg")
    login(client, user)
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="bg">' in page
    assert "Моята работа" in page and "Входящи" in page and "Изход" in page


def test_the_403_page_and_a_role_refusal_speak_the_users_language(client, make_user, login, make_department,
                                                                  make_task):
    import html
    from workdesk.auth import issue_token
    department = make_department()
    user = make_user("requester", departments=[department], locale="de")
    login(client, user)
    page = html.unescape(client.get("/admin/").get_data(as_text=True))
    assert "Sie dürfen diese Seite nicht öffnen." in page and "read-protected" not in page
    task = make_task(user, department)
    response = client.patch(f"/api/v1/tasks/{task.id}", json={"assignee_id": user.id},
                            headers={"Authorization": f"Bearer {issue_token(user)}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "Ihre Rolle erlaubt das nicht: „Aufgaben Personen zuweisen“."


def test_service_validation_error_arrives_in_the_users_language(client, make_user, make_department):
    from workdesk.auth import issue_token
    department = make_department()
    user = make_user("agent", departments=[department], locale="fr")
    headers = {"Authorization": f"Bearer {issue_token(user)}", "Accept-Language": "en"}

    response = client.post("/api/v1/tasks", json={"title": "Fuite", "department_id": 999999}, headers=headers)

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "Référence non valide."
    assert error["fields"] == {"department_id": ["Aucun service avec l'id 999999."]}


def test_service_validation_error_follows_accept_language_for_a_user_without_locale(client, make_user,
                                                                                     make_department):
    from workdesk.auth import issue_token
    department = make_department()
    user = make_user("agent", departments=[department])
    headers = {"Authorization": f"Bearer {issue_token(user)}", "Accept-Language": "es"}
    response = client.post("/api/v1/tasks", json={"title": "Fuga", "department_id": 999999}, headers=headers)
    assert response.get_json()["error"]["fields"] == {
        "department_id": ["No hay ningún departamento con id 999999."]}


@pytest.mark.parametrize(("timezone", "locale", "local_date"), [
    ("Europe/Sofia", "en", "3/11/2026, 12:30"),   # 22:30 UTC is 00:30 the next day in Sofia
    ("America/New_York", "en", "3/10/2026, 6:30"),  # and 18:30 the same day in New York
    ("Europe/Berlin", "de", "10.03.2026, 23:30"),   # 23:30 in Berlin, written the German way, four-digit year
])
def test_dates_follow_the_users_timezone(client, make_user, make_department, make_task, login,
                                         timezone, locale, local_date):
    department = make_department()
    user = make_user("agent", departments=[department], timezone=timezone, locale=locale)
    due = dt.datetime(2026, 3, 10, 22, 30, tzinfo=dt.timezone.utc)
    task = make_task(user, department, due_at=due)
    login(client, user)

    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)

    expected = format_datetime(due, instant_pattern(locale), tzinfo=ZoneInfo(timezone), locale=locale)
    assert local_date in expected  # one format per language, with a four-digit year
    assert f">{expected}</time>" in page


def test_form_validation_messages_follow_the_language(client):
    """Field labels come from our catalogs, WTForms' own messages from its bundled ones."""
    headers = {"Accept-Language": "fr"}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": "", "password": ""}, headers=headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Mot de passe" in page and "Ce champ est requis." in page


def test_make_messages_brings_a_catalog_to_the_locked_babels_plural_forms(tmp_path):
    """A catalog written for an older Babel (French with two forms) gets the new middle form, empty, so
    the completeness test fails until a translator fills it in."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po
    from workdesk.i18n import sync_plural_forms
    old = Catalog(locale="fr")
    old._num_plurals, old._plural_expr = 2, "(n > 1)"
    old.add(("%(num)d task", "%(num)d tasks"), ("%(num)d tâche", "%(num)d tâches"))
    path = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        write_po(f, old)
    assert sync_plural_forms(tmp_path) == [path]
    with path.open("rb") as f:
        synced = read_po(f, locale="fr")
    assert synced.num_plurals == get_plural("fr").num_plurals == 3
    # one, many (new: exact millions), other
    assert synced[("%(num)d task", "%(num)d tasks")].string == ("%(num)d tâche", "", "%(num)d tâches")
    assert sync_plural_forms(tmp_path) == []  # already current


def test_marshmallows_own_field_messages_arrive_in_the_users_language(client, make_user, make_department):
    from workdesk.auth import issue_token
    department = make_department()
    user = make_user("agent", departments=[department], locale="ru")
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    response = client.post("/api/v1/tasks", json={"department_id": department.id, "due_at": "tomorrow"},
                           headers=headers)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["title"] == ["Обязательное поле не заполнено."]
    assert all("Not a valid" not in m and "Missing data" not in m for ms in fields.values() for m in ms), fields


def test_marshmallow_messages_with_values_keep_them():
    from workdesk.validation_messages import translate_message
    assert translate_message("Longer than maximum length 200.", lambda m: m.replace("Longer", "LONGER")) \
        == "LONGER than maximum length 200."
    assert translate_message("Our own sentence.") == "Our own sentence."


def test_login_page_language_switch_is_remembered_until_the_account_decides(client, make_user, login,
                                                                              make_department):
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for name in ("Русский", "Tiếng Việt", "中文（简体）", "Deutsch"):
        assert name in page
    page = client.get("/login?lang=zh_Hans", headers={"Accept-Language": "en"})
    assert "登录" in page.get_data(as_text=True) and '<html lang="zh-Hans">' in page.get_data(as_text=True)
    assert "workdesk_lang=zh_Hans" in page.headers["Set-Cookie"]
    # the cookie keeps the choice on the next visit, over the browser's language
    assert "登录" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登录" in client.get("/login?lang=xx", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # once logged in, the account's own language wins
    user = make_user("agent", departments=[make_department()], locale="ru")
    login(client, user)
    assert "Моя работа" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_key_pages_render_in_each_language(lang, client, make_user, login, make_department, make_task):
    """The start page, queue, task page, new-task form, search, inbox, account and admin home in every
    offered language: the page says so, the words come from its catalog and no status shows as a key."""
    from flask_babel import force_locale, gettext
    from workdesk.notifications import notify
    from workdesk.services import tasks as task_service
    department = make_department()
    user = make_user("admin", departments=[department], locale=lang)
    task = make_task(user, department, title="Máy in kẹt giấy 打印机", assignee_id=user.id, type="incident")
    task_service.transition(user, task.id, "open")
    task_service.transition(user, task.id, "in_progress")
    notify(user, "task.commented", "Hello", task=task)
    login(client, user)
    with force_locale(lang):
        my_work, in_progress, inbox = gettext("My work"), gettext("In progress"), gettext("Notifications")
        admin_title, incident = gettext("Workdesk admin"), gettext("Incident")
    if lang != "en":
        assert (my_work, in_progress) != ("My work", "In progress")
    html_lang = lang.replace("_", "-")
    for path in ("/", "/queue", f"/tasks/{task.id}", "/tasks/new", "/search?q=kẹt", "/notifications", "/account",
                 "/admin/"):
        response = client.get(path, headers={"Accept-Language": "en"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert ">in_progress<" not in page, path
        if path == "/admin/":  # Flask-Admin's own base page carries no lang attribute
            assert admin_title in page
        else:
            assert f'<html lang="{html_lang}"' in page and my_work in page, path
    task_page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert in_progress in task_page and f"<dd>{incident}</dd>" in task_page and "<dd>incident</dd>" not in task_page
    assert "Máy in kẹt giấy" in client.get("/search?q=may in ket").get_data(as_text=True)
    assert inbox in client.get("/notifications").get_data(as_text=True)
