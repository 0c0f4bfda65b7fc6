"""Fixtures for the compliance review tests: an organisation with heads and members, policies, tasks."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def compliance(workdesk_app, enable_plugin):
    enable_plugin("compliance_review")
    from workdesk.plugins.compliance_review import services
    return services


@pytest.fixture
def policies(compliance):
    from workdesk.plugins.compliance_review import policies
    return policies


@dataclass
class Org:
    company: object
    it: object
    finance: object
    ops: object
    ceo: object
    it_head: object
    finance_head: object
    ops_head: object
    engineer: object
    accountants: list
    reporter: object
    admin: object


@pytest.fixture
def org(compliance, make_department, make_user) -> Org:
    """Company (head: the CEO) with IT, Finance and Operations under it, each with a head; two accountants in
    Finance, an engineer in IT, a reporter in Operations, and an admin."""
    from workdesk.services.users import update_department
    company = make_department("Company")
    it = make_department("IT", parent_id=company.id)
    finance = make_department("Finance", parent_id=company.id)
    ops = make_department("Operations", parent_id=company.id)
    admin = make_user("admin", departments=[company], name="Ada Admin")
    people = {
        "ceo": make_user("manager", departments=[company], name="Cleo CEO"),
        "it_head": make_user("manager", departments=[it], name="Ivan IT-Head"),
        "finance_head": make_user("manager", departments=[finance], name="Fay Finance-Head"),
        "ops_head": make_user("manager", departments=[ops], name="Otto Ops-Head"),
        "engineer": make_user("agent", departments=[it], name="Eve Engineer"),
    }
    accountants = [make_user("agent", departments=[finance], name=f"Acc {n}") for n in (1, 2)]
    reporter = make_user("agent", departments=[ops], name="Rita Reporter")
    for department, head in ((company, "ceo"), (it, "it_head"), (finance, "finance_head"), (ops, "ops_head")):
        update_department(admin, department.id, {"head_id": people[head].id})
    return Org(company=company, it=it, finance=finance, ops=ops, accountants=accountants, reporter=reporter,
               admin=admin, **people)


@pytest.fixture
def make_policy(policies):
    def make(steps, **data):
        values = {"name": data.pop("name", "Purchases"), "match": data.pop("match", {"types": ["purchase"]}),
                  "steps": [{"stages": stages if isinstance(stages, list) else [stages]} for stages in steps],
                  **data}
        return policies.create_policy(None, values)
    return make


def people_stage(name, users, rule="all", **extra):
    return {"name": name, "approver_kind": "people", "approver_user_ids": [u.id for u in users], "pass_rule": rule,
            **extra}


@pytest.fixture
def file_task(org, make_task, drain_events):
    """File a task as the reporter (type purchase by default) and let the worker start its review."""
    def file(title="New laptops", reporter=None, department=None, **kwargs):
        kwargs.setdefault("type", "purchase")
        task = make_task(reporter or org.reporter, department or org.ops, title=title, **kwargs)
        drain_events()
        return task
    return file


@pytest.fixture
def review_of(compliance):
    from workdesk import Task

    def get(task):
        return compliance.review_to_dict(compliance.review_of(Task.get_by_id(task.id)))
    return get


def states(review: dict) -> dict[str, str]:
    return {stage["name"]: stage["state"] for stage in review["stages"]}


@pytest.fixture
def task_as(workdesk_app):
    """``task_as(user, admin=False, permissions=())``: give ``user`` a role of their own with extra permissions."""
    from workdesk import Role, User
    from workdesk.services.users import create_role

    def grant(user, admin: bool = False, permissions=()):
        base = list(user.role.permissions)
        role = create_role(None, name=f"{user.role.name}-{user.id}",
                           permissions=[*base, *(["compliance.manage"] if admin else []), *permissions])
        User.update(role=role).where(User.id == user.id).execute()
        user.role = Role.get_by_id(role.id)
        return user
    return grant
