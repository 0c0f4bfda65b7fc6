"""Customers in the API (search, detail with history, field ownership, linking), the ``customer``
task-list filter, the task page's panel, CSV import/export and disabling the plugin."""
from __future__ import annotations

import csv
import io

import pytest

from conftest import NOW

from workdesk.plugins.crm_sync.csvio import export_lines, import_csv
from workdesk.plugins.crm_sync.models import CrmLink, Customer, TaskCustomer
from workdesk.registry import set_plugin_enabled
from workdesk.services import tasks

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def people(crm_generic, sync, make_department, make_user, make_task):
    crm_generic.put("companies", "co1", name="Шанхайская торговая компания")
    crm_generic.put("contacts", "c1", name="Мария Иванова", emails=["maria@client.example"],
                    phones=["+7 (495) 123-45-67"], company_id="co1")
    crm_generic.put("contacts", "c2", name="王小明", emails=["wang@client.cn"], phones=["+86 21 5555 0101"])
    sync.pull(NOW)
    dept = make_department()
    manager, agent = make_user("manager", [dept]), make_user("agent", [dept])
    return {"dept": dept, "manager": manager, "agent": agent, "task": make_task(agent, dept),
            "other": make_task(agent, dept), "maria": Customer.get(Customer.name == "Мария Иванова"),
            "company": Customer.get(Customer.kind == "company"), "wang": Customer.get(Customer.name == "王小明")}


@BOTH_DATABASES
def test_search_across_names_emails_and_phones(people, api_client):
    client = api_client(user=people["agent"])
    names = lambda q: sorted(c["name"] for c in client.get(f"/api/v1/crm/customers?q={q}").json["items"])  # noqa: E731
    assert names("мария") == ["Мария Иванова"]
    assert names("wang@client") == ["王小明"]
    assert names("小明") == ["王小明"]
    assert names("4951234567") == ["Мария Иванова"]
    assert names("123-45") == ["Мария Иванова"]
    assert len(client.get("/api/v1/crm/customers?limit=1").json["items"]) == 1


def test_detail_shows_history_and_requires_crm_view(people, api_client, make_user):
    TaskCustomer.create(task_id=people["task"].id, customer=people["company"], contact=people["maria"])
    client = api_client(user=people["agent"])
    detail = client.get(f"/api/v1/crm/customers/{people['company'].id}").json
    assert [t["id"] for t in detail["tasks"]] == [people["task"].id]
    assert detail["links"][0]["remote_id"] == "co1" and detail["field_owners"]["name"] == "crm"
    requester = api_client(user=make_user("requester"))
    assert requester.get("/api/v1/crm/customers").status_code == 403
    assert client.get("/api/v1/crm/customers/999999").status_code == 404
    assert client.get("/api/v1/crm/customers/99999999999999").status_code == 404


def test_a_crm_owned_field_is_refused_with_a_clear_message(people, api_client):
    client = api_client(user=people["manager"])
    refused = client.patch(f"/api/v1/crm/customers/{people['maria'].id}", json={"name": "Mary"})
    assert refused.status_code == 422
    assert "CRM owns this field" in refused.json["error"]["fields"]["name"][0]
    done = client.patch(f"/api/v1/crm/customers/{people['maria'].id}", json={"notes": "Prefers phone calls"})
    assert done.status_code == 200 and done.json["notes"] == "Prefers phone calls"
    agent = api_client(user=people["agent"])
    assert agent.patch(f"/api/v1/crm/customers/{people['maria'].id}", json={"notes": "x"}).status_code == 403


def test_a_shared_field_follows_its_conflict_rule(people, enable_plugin, crm_generic, sync, api_client):
    from conftest import generic_settings
    enable_plugin("crm_sync", **generic_settings(crm_generic, field_owners={"phones": "both"},
                                                 conflict_rules={"phones": "workdesk_wins"}))
    client = api_client(user=people["manager"])
    assert client.patch(f"/api/v1/crm/customers/{people['maria'].id}", json={"phones": ["+7 900 000 00 00"]}).status_code == 200
    crm_generic.put("contacts", "c1", phones=["+7 111"], name="Мария Петрова")
    sync.pull(NOW)
    maria = Customer.get_by_id(people["maria"].id)
    assert maria.phones == ["+7 900 000 00 00"] and maria.name == "Мария Петрова"


@BOTH_DATABASES
def test_linking_a_task_and_the_customer_filter(people, api_client):
    client = api_client(user=people["manager"])
    task = people["task"]
    linked = client.put(f"/api/v1/crm/tasks/{task.id}/customer", json={"contact_id": people["maria"].id})
    assert linked.status_code == 200 and linked.json["customer"]["id"] == people["company"].id
    answer = client.get(f"/api/v1/tasks?customer={people['company'].id}")
    assert answer.status_code == 200, answer.json
    by_company = answer.json["items"]
    by_contact = client.get(f"/api/v1/tasks?customer={people['maria'].id}").json["items"]
    assert [t["id"] for t in by_company] == [t["id"] for t in by_contact] == [task.id]
    shown = client.get(f"/api/v1/tasks/{task.id}").json
    assert shown["plugins"]["crm_sync"]["contact"]["name"] == "Мария Иванова"
    TaskCustomer.create(task_id=people["other"].id, customer=people["company"])
    history = client.get(f"/api/v1/crm/tasks/{task.id}/customer").json["history"]
    assert [t["id"] for t in history["tasks"]] == [people["other"].id] and history["last_contacts"] == []
    TaskCustomer.delete().where(TaskCustomer.task_id == people["other"].id).execute()
    assert client.get(f"/api/v1/tasks?customer={people['wang'].id}").json["items"] == []
    assert client.put(f"/api/v1/crm/tasks/{task.id}/customer", json={"contact_id": 99999}).status_code == 422
    assert client.delete(f"/api/v1/crm/tasks/{task.id}/customer").status_code == 204
    assert client.get(f"/api/v1/tasks?customer={people['company'].id}").json["items"] == []


def test_the_task_page_shows_the_customer_panel(people, client, login):
    TaskCustomer.create(task_id=people["task"].id, customer=people["company"], contact=people["maria"])
    TaskCustomer.create(task_id=people["other"].id, customer=people["company"])
    login(client, people["agent"])
    page = client.get(f"/tasks/{people['task'].id}").get_data(as_text=True)
    assert "Мария Иванова" in page and "maria@client.example" in page and f"#{people['other'].number}" in page
    listed = client.get(f"/search?customer={people['maria'].id}")
    assert listed.status_code == 200 and people["task"].title in listed.get_data(as_text=True)


def test_a_task_naming_a_customer_email_is_linked(people, drain_events):
    task = tasks.create_task(people["agent"], title="Call back", description="Client wang@client.cn asked twice",
                             department_id=people["dept"].id)
    drain_events()
    assert TaskCustomer.get(TaskCustomer.task_id == task.id).contact_id == people["wang"].id


def test_openapi_lists_the_endpoints(people, api_client):
    paths = api_client(user=people["agent"]).get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/crm/customers", "/api/v1/crm/customers/{customer_id}", "/api/v1/crm/webhook",
            "/api/v1/crm/tasks/{task_id}/customer"} <= set(paths)


def test_disable_and_enable_keep_customers_and_links(people, api_client):
    TaskCustomer.create(task_id=people["task"].id, customer=people["company"], contact=people["maria"])
    set_plugin_enabled("crm_sync", False)
    client = api_client(user=people["agent"])
    assert client.get("/api/v1/crm/customers").status_code == 404
    set_plugin_enabled("crm_sync", True)
    assert Customer.select().count() == 3 and TaskCustomer.select().count() == 1
    assert len(client.get("/api/v1/crm/customers").json["items"]) == 3


def test_csv_round_trip_in_cyrillic_and_chinese_with_formula_escaping(people):
    Customer.update(owner="=HYPERLINK(\"http://evil\")").where(Customer.id == people["wang"].id).execute()
    text = "".join(export_lines())
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    by_name = {row[2]: row for row in rows[1:]}
    assert by_name["王小明"][6] == "'=HYPERLINK(\"http://evil\")" and by_name["Мария Иванова"][4] == "'+7 (495) 123-45-67"

    # into an empty database (another install): everything comes back as it was, once
    for model in (TaskCustomer, CrmLink, Customer):
        model.delete().execute()
    preview = import_csv(text.encode("utf-8"), dry_run=True)
    assert preview.summary() == {"create": 3, "update": 0, "unchanged": 0, "refused": 0, "applied": False}
    assert Customer.select().count() == 0
    import_csv(text.encode("utf-8"), dry_run=False)
    wang = Customer.get(Customer.name == "王小明")
    assert wang.owner == "=HYPERLINK(\"http://evil\")" and wang.phones == ["+86 21 5555 0101"]
    maria = Customer.get(Customer.name == "Мария Иванова")
    assert maria.company.name == "Шанхайская торговая компания" and maria.phones == ["+7 (495) 123-45-67"]
    assert import_csv(text.encode("utf-8"), dry_run=True).summary()["unchanged"] == 3


def test_csv_dry_run_lists_created_updated_and_refused(people):
    import_csv("external_id,kind,name,emails\nx1,contact,Пётр,petr@example.com\n".encode("utf-8-sig"), dry_run=False)
    data = ("external_id,kind,name,emails\n"
            "x1,contact,Пётр Сидоров,petr@example.com\n"
            "x2,contact,李娜,li@example.cn\n"
            ",contact,No id,\n"
            "x3,robot,Robot,\n"
            "x2,contact,Twice,\n"
            "x4,contact,Bad mail,not-an-email\n").encode("utf-8-sig")
    plan = import_csv(data, dry_run=True)
    assert [e["external_id"] for e in plan.update] == ["x1"] and [e["external_id"] for e in plan.create] == ["x2"]
    assert [(r["line"], r["reason"]) for r in plan.refused] == [
        (4, "The external_id is empty."), (5, "The kind must be company or contact."),
        (6, "The external_id appears twice in the file."), (7, "An email address has no @.")]
    assert Customer.get(Customer.name == "Пётр") and not Customer.select().where(Customer.name == "李娜").exists()


def test_the_task_page_links_and_unlinks_a_customer(people, client, login):
    import re
    task = people["task"]
    login(client, people["manager"])
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert "crm-who" in page
    missing = client.post(f"/crm/tasks/{task.id}/customer", data={"csrf_token": token, "who": "nobody@nowhere.example"},
                          follow_redirects=True)
    assert "No single customer matches" in missing.get_data(as_text=True)
    for odd in ("²", "99999999999999999999"):  # a digit that is no number, an id beyond the database's
        answer = client.post(f"/crm/tasks/{task.id}/customer", data={"csrf_token": token, "who": odd},
                             follow_redirects=True)
        assert answer.status_code == 200 and "No single customer matches" in answer.get_data(as_text=True)
    done = client.post(f"/crm/tasks/{task.id}/customer", data={"csrf_token": token, "who": "maria@client.example"},
                       follow_redirects=True)
    assert "The task is linked to Мария Иванова." in done.get_data(as_text=True)
    row = TaskCustomer.get(TaskCustomer.task_id == task.id)
    assert row.contact_id == people["maria"].id and row.customer_id == people["company"].id
    client.post(f"/crm/tasks/{task.id}/customer/remove", data={"csrf_token": token})
    assert not TaskCustomer.select().where(TaskCustomer.task_id == task.id).exists()
    trail = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "linked the customer “Мария Иванова”" in trail and "unlinked the customer “Мария Иванова”" in trail
    assert client.post(f"/crm/tasks/{task.id}/customer", data={"who": "x"}).status_code in (302, 400)
    login(client, people["agent"])  # crm.view only: sees, cannot link
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "crm-who" not in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    refused = client.post(f"/crm/tasks/{task.id}/customer", data={"csrf_token": token, "who": str(people["wang"].id)},
                          follow_redirects=True)
    assert "Your role does not allow this" in refused.get_data(as_text=True) and not TaskCustomer.select().exists()


def test_the_link_form_looks_an_unknown_phone_or_email_up_in_the_crm(people, crm_generic, client, login):
    import re
    crm_generic.put("contacts", "c5", name="Ольга Новая", emails=["olga@client.example"], phones=["+7 812 000-11-22"])
    task, other = people["task"], people["other"]
    login(client, people["manager"])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(f"/tasks/{task.id}").get_data(as_text=True)).group(1)
    done = client.post(f"/crm/tasks/{task.id}/customer", data={"csrf_token": token, "who": "+7 812 000-11-22"},
                       follow_redirects=True)
    assert "The task is linked to Ольга Новая." in done.get_data(as_text=True)
    assert any("phone=%2B7+812+000-11-22" in path for _t, _m, path in crm_generic.requests)
    olga = Customer.get(Customer.name == "Ольга Новая")
    assert TaskCustomer.get(TaskCustomer.task_id == task.id).contact_id == olga.id
    assert CrmLink.get(CrmLink.customer == olga.id).remote_id == "c5"  # matched by remote id from now on
    crm_generic.put("contacts", "c6", name="Late Email", emails=["late@client.example"])
    done = client.post(f"/crm/tasks/{other.id}/customer", data={"csrf_token": token, "who": "late@client.example"},
                       follow_redirects=True)
    assert "The task is linked to Late Email." in done.get_data(as_text=True)
    asked = len(crm_generic.requests)
    missing = client.post(f"/crm/tasks/{other.id}/customer", data={"csrf_token": token, "who": "+1 555 0000"},
                          follow_redirects=True)
    assert "No single customer matches" in missing.get_data(as_text=True) and len(crm_generic.requests) == asked + 1
