"""Who may do what to an article, and which roles newsroom knows: the rules live here once."""

from __future__ import annotations

from typing import Literal, get_args

from flask_bastion import Principal

RoleName = Literal["admin", "editor"]
# The roles newsroom gives meaning to; anything else would be a typo, not a new role.
KNOWN_ROLES: tuple[str, ...] = get_args(RoleName)

ADMIN = "admin"
# Editors and admins look after everyone's articles; everyone else only after their own.
MODERATOR_ROLES = frozenset({"editor", ADMIN})


def may_edit_article(principal: Principal, author_id: int) -> bool:
    """The author, or an editor/admin, may edit or delete an article."""
    return principal.user_id == author_id or not MODERATOR_ROLES.isdisjoint(principal.roles)
