"""A believable demo company: departments, people in every role, a few hundred tasks in every state."""
from __future__ import annotations

import datetime as dt
import random

from .db import utcnow
from .errors import WorkdeskError
from .models import Calendar, Department, Task, User
from .services import tasks as task_service
from .services import users as user_service

PASSWORD = "workdesk-demo"
# Where requesters (who belong to no department) file with quick create; `workdesk init --demo`
# writes it as the instance's intake_department setting.
INTAKE_DEPARTMENT = "IT Support"
DEPARTMENTS = {
    "Facilities": ["Replace broken light in {room}", "Inspect fire extinguishers on floor {n}",
                   "Fix leaking tap in {room}", "Air conditioning too cold in {room}"],
    "IT Support": ["Laptop will not boot ({who})", "New starter account for {who}", "VPN drops every hour",
                   "Printer on floor {n} jams"],
    "Finance": ["Approve invoice #{n}", "Monthly supplier payment run", "Expense claim for {who}",
                "Reconcile card statement {n}"],
    "Customer Care": ["Customer {who} asks for a refund", "Complaint about late delivery #{n}",
                      "Call back {who} about contract", "Update address for customer #{n}"],
    "Compliance": ["Review data-retention policy", "Quarterly access review for {room}",
                   "Sign-off for vendor {who}", "Audit finding #{n} follow-up"],
}
PEOPLE = ["Maria Ivanova", "Georgi Petrov", "Elena Dimitrova", "Jonas Weber", "Sofia Rossi", "Liam O'Brien",
          "Aiko Tanaka", "Carlos Mendes", "Nadia Haddad", "Pieter de Vries", "Chloé Martin", "Omar Farouk",
          "Ingrid Larsen", "Tomasz Nowak", "Priya Sharma", "Lucas Silva", "Hanna Berg", "Mateo García",
          "Zeynep Kaya", "Ben Carter"]
ROOMS = ["room 101", "the kitchen", "meeting room Sofia", "the warehouse", "reception"]
PATHS = {
    "new": [], "open": ["open"], "in_progress": ["open", "in_progress"],
    "waiting": ["open", "in_progress", "waiting"], "resolved": ["open", "in_progress", "resolved"],
    "closed": ["open", "in_progress", "resolved", "closed"],
}


def load_demo(task_count: int = 300, seed: int = 7) -> dict[str, int]:
    if Department.select().where(Department.name == "Facilities").exists():
        raise WorkdeskError("The demo company is already loaded.")
    rng = random.Random(seed)
    calendar, _ = Calendar.get_or_create(name="Office hours (Sofia)", defaults={
        "timezone": "Europe/Sofia",
        "weekly_hours": {d: [["09:00", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    depts = {}
    for name in DEPARTMENTS:
        depts[name] = user_service.create_department(None, name=name, calendar_id=calendar.id)
    people: list[User] = []
    members: dict[str, list[User]] = {name: [] for name in DEPARTMENTS}
    roles = ["manager", "agent", "agent", "reviewer"]
    for i, full_name in enumerate(PEOPLE):
        dept_name = list(DEPARTMENTS)[i % len(DEPARTMENTS)]
        role = roles[(i // len(DEPARTMENTS)) % len(roles)]
        email = full_name.lower().replace(" ", ".").replace("'", "").replace("é", "e") + "@example.com"
        person = user_service.create_user(None, email=email, name=full_name, password=PASSWORD, role=role,
                                          department_ids=[depts[dept_name].id], timezone="Europe/Sofia",
                                          skills=[dept_name.lower().split()[0]])
        if role == "manager":
            depts[dept_name].head = person
            depts[dept_name].save()
        people.append(person)
        members[dept_name].append(person)
    requesters = [user_service.create_user(None, email=f"requester{n}@example.com", name=f"Requester {n}",
                                           password=PASSWORD, role="requester", timezone="Europe/Sofia")
                  for n in range(1, 6)]
    now = utcnow()
    for n in range(task_count):
        dept_name = rng.choice(list(DEPARTMENTS))
        dept = depts[dept_name]
        staff = [p for p in members[dept_name] if p.has_permission("task.assign")]
        reporter = rng.choice(requesters + staff)
        title = rng.choice(DEPARTMENTS[dept_name]).format(room=rng.choice(ROOMS), n=rng.randint(2, 999),
                                                          who=rng.choice(PEOPLE))
        status = rng.choice(list(PATHS))
        due = now + dt.timedelta(hours=rng.randint(-24 * 10, 24 * 20)) if rng.random() < 0.7 else None
        assignee = rng.choice(staff) if status != "new" or rng.random() < 0.3 else None
        task = task_service.create_task(
            reporter, title=title, department_id=dept.id, priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
            description="Filed from the demo data set.", due_at=due,
            assignee_id=assignee.id if assignee and reporter.has_permission("task.assign") else None)
        worker = assignee or rng.choice(staff)
        if task.assignee_id is None and status != "new":
            task_service.update_task(worker, task.id, {"assignee_id": worker.id})
        for step in PATHS[status]:
            task_service.update_task(worker, task.id, {"status": step})
        if rng.random() < 0.4:
            task_service.add_comment(worker, task.id, rng.choice(["On it.", "Waiting for parts.",
                                                                  "Called the customer, will follow up.",
                                                                  "Done, please check."]))
    return {"departments": len(depts), "people": len(people) + len(requesters),
            "tasks": Task.select().count()}
