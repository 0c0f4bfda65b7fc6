"""Who a stage asks: approvers resolved from a stage's definition, department heads, managers.

A department without a head passes the question to its parent: "the head of IT" is IT's head, or the
head of the department IT belongs to when IT has none.
"""
from __future__ import annotations

from workdesk import Department, Membership, Role, Task, User

PERMISSION_MANAGE = "compliance.manage"
PERMISSION_REVIEW = "compliance.review"


def grants(role: Role, permission: str) -> bool:
    perms = role.permissions or []
    return "*" in perms or permission in perms


def _active(user: User | None) -> User | None:
    return user if user is not None and user.is_active else None


def head_of(department: Department | None, not_user: User | None = None) -> User | None:
    """The active head of ``department`` or of its nearest ancestor that has one (other than ``not_user``)."""
    seen: set[int] = set()
    while department is not None and department.id not in seen:
        seen.add(department.id)
        head = _active(department.head) if department.head_id is not None else None
        if head is not None and (not_user is None or head.id != not_user.id):
            return head
        department = department.parent
    return None


def home_department(user: User) -> Department | None:
    """The first department ``user`` joined: whose head is their manager."""
    membership = Membership.select().where(Membership.user == user).order_by(Membership.id).first()
    return membership.department if membership else None


def manager_of(user: User) -> User | None:
    """The head of ``user``'s department; for a head, the head above them."""
    return head_of(home_department(user), not_user=user)


def top_department(department: Department | None) -> Department | None:
    seen: set[int] = set()
    while department is not None and department.parent_id is not None and department.id not in seen:
        seen.add(department.id)
        department = department.parent
    return department


def with_permission(permission: str) -> list[User]:
    """Active users whose role grants ``permission`` (by id)."""
    role_ids = [role.id for role in Role.select() if grants(role, permission)]
    if not role_ids:
        return []
    return list(User.select().where(User.role.in_(role_ids) & (User.is_active == True)).order_by(User.id))  # noqa: E712


def compliance_managers() -> list[User]:
    return with_permission(PERMISSION_MANAGE)


def resolve(stage, task: Task) -> list[User]:
    """The active people a stage (a policy stage or a review stage) names for ``task``, each once."""
    kind = stage.approver_kind
    department_id = getattr(stage, "approver_department_id", None)
    people: list[User | None] = []
    if kind == "people":
        found = {u.id: u for u in User.select().where(User.id.in_(list(stage.approver_user_ids or [])))}
        people = [found.get(uid) for uid in stage.approver_user_ids or []]
    elif kind == "role":
        role = Role.get_or_none(Role.name == stage.approver_role)
        if role is not None and grants(role, PERMISSION_REVIEW):
            people = list(User.select().where(User.role == role).order_by(User.id))
    elif kind == "task_department_head":
        people = [head_of(task.department)]
    elif kind == "department_head":
        people = [head_of(Department.get_or_none(Department.id == department_id))] if department_id else []
    elif kind == "department_members":
        if department_id:
            people = list(User.select().join(Membership, on=(Membership.user == User.id))
                          .where(Membership.department == department_id).order_by(User.id))
    elif kind == "reporter_manager":
        people = [manager_of(task.reporter)]
    elif kind == "top_department_head":
        people = [head_of(top_department(task.department))]
    unique: dict[int, User] = {}
    for person in people:
        if _active(person) is not None:
            unique.setdefault(person.id, person)
    return list(unique.values())
