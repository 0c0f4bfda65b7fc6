"""What a rule matches (department, type, priority, impact, custom fields; order; disabled rules) and whom it
picks from (a department with or without its sub-departments, a role), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from workdesk import Role
from workdesk.plugins.dispatch.models import Decision

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


def test_rules_match_by_impact_type_and_custom_fields_in_order_skipping_disabled_ones(team, make_rule, make_task):
    department, head, agents = team["department"], team["head"], team["agents"]
    make_rule(name="Big impact", position=1, impacts=["high"], pool_user_ids=[agents[0].id])
    make_rule(name="Sofia", position=2, fields={"site": "Sofia"}, pool_user_ids=[agents[1].id])
    make_rule(name="Switched off", position=3, enabled=False, pool_user_ids=[agents[2].id])
    make_rule(name="Incidents", position=4, types=["incident"], priorities=["high"], pool_user_ids=[agents[3].id])
    # both of the first two rules match: the lower position decides
    assert make_task(head, department, impact="high", fields={"site": "Sofia"}).assignee_id == agents[0].id
    assert make_task(head, department, fields={"site": "Sofia"}).assignee_id == agents[1].id
    # a custom field with another value, or missing, does not match; the disabled rule is never used
    incident = make_task(head, department, type="incident", priority="high", fields={"site": "Varna"})
    assert incident.assignee_id == agents[3].id
    # every criterion of a rule must hold: an incident of normal priority matches no rule, so dispatch
    # leaves the task to the next in line (no decision is recorded)
    unmatched = make_task(head, department, type="incident", priority="normal")
    assert unmatched.assignee_id is None
    assert not Decision.select().where(Decision.task_number == unmatched.number).exists()
    assert [d.rule_name for d in Decision.select().order_by(Decision.id)] == ["Big impact", "Sofia", "Incidents"]


def test_a_department_pool_with_and_without_its_sub_departments(team, dispatch, make_department, make_user,
                                                                 make_task):
    support, operations, head, agents = team["department"], team["operations"], team["head"], team["agents"]
    field = make_department("Field", parent_id=operations.id)
    field_only = make_user("agent", departments=[field], name="Fay Field")
    both = make_user("agent", departments=[field, support], name="Bo Both")
    boss = make_user("manager", departments=[operations], name="Otto Ops")
    rule = dispatch.create_rule(team["admin"], {"name": "Operations", "pool": "department",
                                                "pool_department_id": operations.id, "include_subdepartments": True,
                                                "strategy": "least_loaded"})
    answer = dispatch.preview(team["admin"], {"department_id": support.id})
    why = {c["user_id"]: c["filtered"] for c in answer["candidates"]}
    # everyone in Operations, Support and Field; only members of Support may work a Support task
    assert why == {head.id: None, **{a.id: None for a in agents}, both.id: None, field_only.id: "not_allowed",
                   boss.id: "not_allowed"}
    # without the sub-departments: only Operations' own member, who may not work Support's tasks
    dispatch.update_rule(team["admin"], rule.id, {"include_subdepartments": False})
    answer = dispatch.preview(team["admin"], {"department_id": support.id})
    assert answer["chosen"] is None and answer["reason"] == "no_pool"
    assert [(c["user_id"], c["filtered"]) for c in answer["candidates"]] == [(boss.id, "not_allowed")]
    # no department named: the task's own department's members
    dispatch.update_rule(team["admin"], rule.id, {"pool_department_id": None})
    task = make_task(head, field)
    assert task.assignee_id == field_only.id  # Field's members: Fay (id lower than Bo's), both idle
    assert make_task(head, field).assignee_id == both.id


def test_a_role_pool(team, dispatch, make_user, make_task):
    support, head, agents = team["department"], team["head"], team["agents"]
    elsewhere = make_user("manager", departments=[team["warehouse"]], name="Wanda Warehouse")
    manager = Role.get(Role.name == "manager")
    dispatch.create_rule(team["admin"], {"name": "Managers", "pool": "role", "pool_role_id": manager.id,
                                         "strategy": "round_robin"})
    answer = dispatch.preview(team["admin"], {"department_id": support.id})
    why = {c["user_id"]: c["filtered"] for c in answer["candidates"]}
    assert why == {head.id: None, elsewhere.id: "not_allowed"}  # the agents hold another role
    assert make_task(agents[0], support).assignee_id == head.id
    assert make_task(agents[0], team["warehouse"]).assignee_id == elsewhere.id
