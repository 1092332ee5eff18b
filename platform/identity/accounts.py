"""Create users, check passwords, and look people up."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from andon.errors import AndonError
from andon.i18n import N_
from andon.identity.models import ROLES, Group, OrgUnit, User, UserRole

MIN_PASSWORD = 8


def new_password() -> str:
    """Return a random password a person can type."""
    return secrets.token_urlsafe(9)


def create_user(session: Session, username: str, display_name: str, password: str,
                roles: tuple[str, ...] = ("member",), email: str | None = None,
                like: User | None = None) -> User:
    """Add a user with a hashed password and the given roles.

    ``like`` gives the new user that user's password without hashing it again (for demo data).
    """
    if session.scalar(select(User).where(User.username == username)):
        raise AndonError(N_("A user named %(username)s already exists."), username=username)
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AndonError(N_("Unknown role: %(role)s."), role=", ".join(sorted(unknown)))
    user = User(username=username, display_name=display_name, email=email,
                password_hash="")
    if like is not None:
        user.password_hash = like.password_hash
    else:
        set_password(user, password)
    user.role_rows = [UserRole(role=role) for role in roles]
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Store the hash of a new password."""
    if len(password) < MIN_PASSWORD:
        raise AndonError(N_("A password needs at least %(count)s characters."),
                         count=MIN_PASSWORD)
    user.password_hash = generate_password_hash(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with this name and password, or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)  # the same cost as for a real user
        return None
    return user if check_password_hash(user.password_hash, password) else None


@cache
def _dummy_hash() -> str:
    """Return a hash to check against when there is no user, made once."""
    return generate_password_hash(secrets.token_hex(16))


def ensure_group(session: Session, key: str, name: str) -> Group:
    """Return the group with this key, creating it when missing."""
    group = session.scalar(select(Group).where(Group.key == key))
    if group is None:
        group = Group(key=key, name=name)
        session.add(group)
        session.flush()
    return group


def ensure_org_unit(session: Session, key: str, name: str,
                    parent: OrgUnit | None = None) -> OrgUnit:
    """Return the org unit with this key, creating it when missing."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.key == key))
    if unit is None:
        unit = OrgUnit(key=key, name=name, parent_id=parent.id if parent else None)
        session.add(unit)
        session.flush()
    return unit
