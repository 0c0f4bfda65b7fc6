"""People and departments: create, change, deactivate; memberships and roles."""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Iterable

from flask_babel import gettext as _

from .. import outbox
from ..access import require
from ..auth import MIN_PASSWORD_LENGTH, end_all_sessions, hash_password, normalise_email
from ..db import write_transaction
from ..errors import NotFound, ValidationFailed
from ..models import Calendar, Department, Membership, Role, User
from ..schemas import is_renderable_zone

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_timezone(value: str | None) -> None:
    if value is None:
        return
    if not is_renderable_zone(value):
        raise ValidationFailed(_("Invalid value."), {"timezone": [_("Not an IANA time zone (e.g. Europe/Sofia).")]}) from None


def _check_password(password: str) -> None:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_("Invalid value."), {"password": [
            _("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)]})


def _role(name: str) -> Role:
    role = Role.get_or_none(Role.name == name)
    if role is None:
        raise ValidationFailed(_("Invalid reference."), {"role": [_("No role named %(name)s. Roles: %(roles)s.", name=name,
                                                                    roles=", ".join(r.name for r in Role.select()))]})
    return role


def _departments(ids: Iterable[int], field: str = "department_ids") -> list[Department]:
    found = []
    for dept_id in dict.fromkeys(ids or ()):
        dept = Department.get_or_none(Department.id == dept_id)
        if dept is None:
            raise ValidationFailed(_("Invalid reference."), {field: [_("No department with id %(id)s.", id=dept_id)]})
        found.append(dept)
    return found


def check_new_user(*, email: str, password: str, name: str) -> None:
    """Validate the parts of a new user that need no database (used before the database exists)."""
    if not EMAIL.match(normalise_email(email)):
        raise ValidationFailed(_("Invalid value."), {"email": [_("Not a valid email address.")]})
    if not (name or "").strip():
        raise ValidationFailed(_("Invalid value."), {"name": [_("A name is required.")]})
    _check_password(password)


def create_user(actor: User | None, *, email: str, name: str, password: str, role: str = "agent",
                department_ids: Iterable[int] = (), timezone: str | None = None, skills: Iterable[str] = (),
                locale: str | None = None) -> User:
    """Create a user; ``actor`` None is the command line (trusted)."""
    if actor is not None:
        require(actor, "user.manage")
    check_new_user(email=email, password=password, name=name)
    _check_timezone(timezone)
    email = normalise_email(email)
    with write_transaction():
        if User.select().where(User.email == email).exists():
            raise ValidationFailed(_("Invalid value."), {"email": [_("A user with this email exists.")]})
        user = User.create(email=email, name=name.strip(), password_hash=hash_password(password), role=_role(role),
                           timezone=timezone or "UTC", skills=list(skills or []), locale=locale)
        for dept in _departments(department_ids):
            Membership.create(user=user, department=dept)
    return user


def update_user(actor: User, user_id: int, changes: dict) -> User:
    """Change a user. People may change their own name, timezone, locale and password; the rest needs user.manage."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise NotFound(_("No such user."))
    own_fields = {"name", "timezone", "locale", "password"}
    if user.id != actor.id or set(changes) - own_fields:
        require(actor, "user.manage")
    revoke = deactivated = False
    with write_transaction():
        if "email" in changes:
            email = normalise_email(changes["email"])
            if not EMAIL.match(email):
                raise ValidationFailed(_("Invalid value."), {"email": [_("Not a valid email address.")]})
            if User.select().where((User.email == email) & (User.id != user.id)).exists():
                raise ValidationFailed(_("Invalid value."), {"email": [_("A user with this email exists.")]})
            user.email = email
        if "name" in changes:
            if not (changes["name"] or "").strip():
                raise ValidationFailed(_("Invalid value."), {"name": [_("A name is required.")]})
            user.name = changes["name"].strip()
        if "timezone" in changes:
            _check_timezone(changes["timezone"])
            user.timezone = changes["timezone"]
        if "locale" in changes:
            from ..extensions import LANGUAGES
            if changes["locale"] not in (*LANGUAGES, None):
                raise ValidationFailed(_("Invalid value."), {"locale": [
                    _("Must be one of: %(choices)s.", choices=", ".join(LANGUAGES))]})
            user.locale = changes["locale"]
        if "skills" in changes:
            user.skills = list(changes["skills"] or [])
        if "role" in changes:
            user.role = _role(changes["role"])
        if "password" in changes:
            _check_password(changes["password"])
            user.password_hash = hash_password(changes["password"])
            revoke = True
        if "is_active" in changes:
            if not changes["is_active"] and user.is_active:
                revoke = deactivated = True
            user.is_active = bool(changes["is_active"])
        if "department_ids" in changes:
            depts = _departments(changes["department_ids"])
            Membership.delete().where(Membership.user == user).execute()
            for dept in depts:
                Membership.create(user=user, department=dept)
        user.save()
        if deactivated:  # on_user_deactivated, after commit
            outbox.emit("user.deactivated", {"user_id": user.id, "actor_id": actor.id if actor else None})
    if revoke:
        end_all_sessions(user)
    return user


def filing_department(user: User, intake: int | str | None = None) -> Department:
    """Where a task ``user`` files without choosing goes (quick create, the full form's default).

    Their first department (by membership order); for someone in none, such as a requester, the
    intake department (the ``intake_department`` setting, a name or an id); without that setting,
    the oldest top-level department. Raises ValidationFailed when there is none to file into.
    """
    membership = (Membership.select(Membership, Department).join(Department)
                  .where(Membership.user == user).order_by(Membership.id).first())
    if membership is not None:
        return membership.department
    if intake is not None:
        department = Department.get_or_none((Department.id == intake) if isinstance(intake, int)
                                            else (Department.name == intake))
        if department is None:
            raise ValidationFailed(_("There is no department to file this in."), {"department_id": [
                _("The intake department %(name)s does not exist; ask an administrator to correct the "
                  "intake_department setting.", name=intake)]})
        return department
    department = Department.select().where(Department.parent.is_null()).order_by(Department.id).first()
    if department is None:
        raise ValidationFailed(_("There is no department to file this in."), {"department_id": [
            _("No department exists yet; ask an administrator to create one.")]})
    return department


def create_department(actor: User | None, *, name: str, parent_id: int | None = None,
                      head_id: int | None = None, calendar_id: int | None = None) -> Department:
    if actor is not None:
        require(actor, "department.manage")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("Invalid value."), {"name": [_("Between 1 and 200 characters.")]})
    with write_transaction():
        if Department.select().where(Department.name == name).exists():
            raise ValidationFailed(_("Invalid value."), {"name": [_("A department with this name exists.")]})
        parent = _departments([parent_id], "parent_id")[0] if parent_id is not None else None
        head = User.get_or_none(User.id == head_id) if head_id is not None else None
        if head_id is not None and head is None:
            raise ValidationFailed(_("Invalid reference."), {"head_id": [_("No user with id %(id)s.", id=head_id)]})
        return Department.create(name=name, parent=parent, head=head, calendar=_calendar(calendar_id))


def update_department(actor: User, department_id: int, changes: dict) -> Department:
    require(actor, "department.manage")
    dept = Department.get_or_none(Department.id == department_id)
    if dept is None:
        raise NotFound(_("No such department."))
    with write_transaction():
        if "name" in changes:
            name = (changes["name"] or "").strip()
            if not name or len(name) > 200:
                raise ValidationFailed(_("Invalid value."), {"name": [_("Between 1 and 200 characters.")]})
            if Department.select().where((Department.name == name) & (Department.id != dept.id)).exists():
                raise ValidationFailed(_("Invalid value."), {"name": [_("A department with this name exists.")]})
            dept.name = name
        if "parent_id" in changes:
            parent_id = changes["parent_id"]
            parent = _departments([parent_id], "parent_id")[0] if parent_id is not None else None
            node = parent
            while node is not None:  # no cycles in the tree
                if node.id == dept.id:
                    raise ValidationFailed(_("Invalid reference."), {"parent_id": [_("A department cannot be inside itself.")]})
                node = node.parent
            dept.parent = parent
        if "head_id" in changes:
            head_id = changes["head_id"]
            head = User.get_or_none(User.id == head_id) if head_id is not None else None
            if head_id is not None and head is None:
                raise ValidationFailed(_("Invalid reference."), {"head_id": [_("No user with id %(id)s.", id=head_id)]})
            dept.head = head
        if "calendar_id" in changes:  # None: counts on its parent's calendar
            dept.calendar = _calendar(changes["calendar_id"])
        dept.save()
    return dept


def _calendar(calendar_id: int | None) -> Calendar | None:
    """The working calendar a department counts on, or a 422 naming ``calendar_id``."""
    if calendar_id is None:
        return None
    calendar = Calendar.get_or_none(Calendar.id == calendar_id)
    if calendar is None:
        raise ValidationFailed(_("Invalid reference."), {"calendar_id": [_("No such calendar.")]})
    return calendar


# -- roles ------------------------------------------------------------------------------------

def _check_permissions(permissions: Iterable[str]) -> list[str]:
    from ..registry import get_registry
    from ..schema import all_permissions
    known = set(all_permissions(get_registry())) | {"*"}
    chosen = list(dict.fromkeys(permissions or ()))
    unknown = [p for p in chosen if p not in known]
    if unknown:
        raise ValidationFailed(_("Invalid value."), {"permissions": [
            _("Unknown permission: %(names)s.", names=", ".join(unknown))]})
    return chosen


def least_privileged_role() -> Role | None:
    """The role granting the fewest permissions (``*`` counts as all of them; ties go by name), or None
    when there are no roles: what a form for a new person preselects, so a hurried save grants least."""
    def breadth(role: Role) -> tuple[float, str]:
        permissions = set(role.permissions or [])
        return (math.inf if "*" in permissions else len(permissions), role.name)
    return min(Role.select(), key=breadth, default=None)


def create_role(actor: User | None, *, name: str, description: str = "", permissions: Iterable[str] = ()) -> Role:
    """Create a role from permission strings (the core's and those enabled or installed plugins add)."""
    if actor is not None:
        require(actor, "user.manage")
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed(_("Invalid value."), {"name": [_("Between 1 and 64 characters.")]})
    chosen = _check_permissions(permissions)
    with write_transaction():
        if Role.select().where(Role.name == name).exists():
            raise ValidationFailed(_("Invalid value."), {"name": [_("A role with this name exists.")]})
        return Role.create(name=name, description=description or "", permissions=chosen)


def update_role(actor: User, role_id: int, changes: dict) -> Role:
    """Rename a role or change its description or permission set."""
    require(actor, "user.manage")
    role = Role.get_or_none(Role.id == role_id)
    if role is None:
        raise NotFound(_("No such role."))
    with write_transaction():
        if "name" in changes:
            name = (changes["name"] or "").strip()
            if not name or len(name) > 64:
                raise ValidationFailed(_("Invalid value."), {"name": [_("Between 1 and 64 characters.")]})
            if Role.select().where((Role.name == name) & (Role.id != role.id)).exists():
                raise ValidationFailed(_("Invalid value."), {"name": [_("A role with this name exists.")]})
            role.name = name
        if "description" in changes:
            role.description = changes["description"] or ""
        if "permissions" in changes:
            role.permissions = _check_permissions(changes["permissions"])
        role.save()
    return role


def people_on_duty(department_id: int, at: dt.datetime) -> list[User] | None:
    """Who is on duty in a department at ``at``, as the enabled rota plugin (``people_on_duty`` hook)
    says: a list (possibly empty: deliberately nobody), or None when no plugin keeps a roster for it."""
    from ..registry import PluginFailed, get_registry
    for _plugin, answer in get_registry().decide("people_on_duty", department_id=department_id, at=at):
        if answer is not None and not isinstance(answer, PluginFailed):
            return [person for person in answer if isinstance(person, User)]
    return None


def _deactivated_kwargs(event) -> dict | None:
    user = User.get_or_none(User.id == event.payload["user_id"])
    if user is None:  # deleted since: nothing left to hand on
        return None
    actor_id = event.payload.get("actor_id")
    return {"user": user, "actor": User.get_or_none(User.id == actor_id) if actor_id else None}


outbox.register_event_kind("user.deactivated", "on_user_deactivated", _deactivated_kwargs)
