"""Passwords, revocable web sessions and hashed API tokens."""
from __future__ import annotations

import hashlib
import secrets
from functools import wraps
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, redirect, request, session, url_for

from . import throttle
from .db import columns_of, db, models_from_rows, quoted, sql_once, utcnow, write_transaction
from .errors import Unauthorized
from .models import ApiToken, Role, User

# OWASP's argon2id minimum (19 MiB, 2 passes): a login costs 19 MiB instead of the library's 64 MiB,
# which keeps a small install within its memory budget when several people log in at once.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("workdesk-timing-equaliser")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _password_matches(user: User | None, password: str) -> bool:
    # Not public: every check of a password goes through the throttle (authenticate, check_current_password).
    try:
        return _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password) \
            and user is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    Throttled (``workdesk.throttle``): raises ``PasswordThrottled`` (429, ``retry_after``) after too many
    wrong passwords for this email or from this client address, whether the password is right or not.
    """
    email = normalise_email(email)
    throttle.check(email)
    user = User.get_or_none(User.email == email)
    if not _password_matches(user, password or ""):
        throttle.record_failure(email)
        return None
    return user if user.is_active else None


def check_current_password(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s own (asked again before a sensitive change).

    Throttled like a login and on the same count: raises ``PasswordThrottled`` when locked out.
    """
    throttle.check(user.email)
    if _password_matches(user, password or ""):
        return True
    throttle.record_failure(user.email)
    return False


# -- sessions -------------------------------------------------------------------------------------

def login_user(user: User) -> None:
    """Start a fresh session (a new identifier, so a planted session cannot be taken over)."""
    session.clear()
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["sid"] = secrets.token_urlsafe(16)
    session.permanent = True
    g.user = user


def end_all_sessions(user: User) -> None:
    """Log the user out everywhere: every web session and every API token stops working at once."""
    with write_transaction():
        User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
        ApiToken.update(revoked_at=utcnow()).where((ApiToken.user == user) & ApiToken.revoked_at.is_null()).execute()
    user.session_version += 1


def logout_user() -> None:
    user = current_user()
    if user is not None:
        end_all_sessions(user)
    session.clear()
    g.user = None


# -- tokens --------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str = "") -> str:
    """Create an API token; only its hash is stored, so this is the one time it can be shown."""
    token = "wd_" + secrets.token_urlsafe(32)
    ApiToken.create(user=user, token_hash=_token_hash(token), name=name)
    return token


def revoke_token(token: str) -> bool:
    return bool(ApiToken.update(revoked_at=utcnow())
                .where((ApiToken.token_hash == _token_hash(token)) & ApiToken.revoked_at.is_null()).execute())


def _user_with_role(by: str, value: object) -> User | None:
    """The user (with their role) whose ``by`` is ``value``: ``"token"``, a live API token's hash, or ``"id"``.

    Asked on every request, so the one statement is written once, and the two rows made models directly.
    """
    sql = sql_once(("caller", by), lambda: _caller_sql(by))
    row = db.execute_sql(sql, (value,)).fetchone()
    if row is None:
        return None
    width = len(User._meta.sorted_fields)
    user = models_from_rows(User, None, [row[:width]])[0]
    user.role = models_from_rows(Role, None, [row[width:]])[0]
    return user


def _caller_sql(by: str) -> str:
    param = db.obj.param
    sql = (f"SELECT {columns_of(User, 'u')}, {columns_of(Role, 'r')} FROM {quoted(User._meta.table_name)} AS u "
           f"JOIN {quoted(Role._meta.table_name)} AS r ON r.{quoted('id')} = u.{quoted('role_id')} ")
    if by == "token":
        return sql + (f"JOIN {quoted(ApiToken._meta.table_name)} AS t ON t.{quoted('user_id')} = u.{quoted('id')} "
                      f"WHERE t.{quoted('token_hash')} = {param} AND t.{quoted('revoked_at')} IS NULL")
    return sql + f"WHERE u.{quoted('id')} = {param}"


def user_for_token(token: str) -> User | None:
    user = _user_with_role("token", _token_hash(token))
    return user if user is not None and user.is_active else None


def user_by_id(user_id: int) -> User | None:
    return _user_with_role("id", user_id)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


# -- the current user ----------------------------------------------------------------------------

def current_user() -> User | None:
    """The user of this request: by bearer token, else by web session; None when anonymous."""
    if "user" in g:
        return g.user
    user = None
    token = bearer_token()
    if token:
        user = user_for_token(token)
        g.auth_method = "token" if user else None
    elif "uid" in session:
        candidate = user_by_id(session["uid"])
        if candidate and candidate.is_active and candidate.session_version == session.get("sv"):
            user = candidate
            g.auth_method = "session"
        else:
            session.clear()
    g.user = user
    return user


def login_required(view: Callable) -> Callable:
    """For pages: anonymous visitors are sent to the login page."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("web.login", next=request.full_path if request.query_string else request.path))
        return view(*args, **kwargs)
    return wrapper


def require_user() -> User:
    """For the API: the authenticated user or a 401."""
    user = current_user()
    if user is None:
        raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>' (POST /api/v1/auth/token).")
    return user
