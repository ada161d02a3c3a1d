"""newsroom's domain errors: each fixes an HTTP status and a stable snake_case code."""

from __future__ import annotations

from flask_bastion.errors import Conflict, Forbidden, NotFound


class ArticleNotFound(NotFound):
    code, detail = "article_not_found", "No article has this id."


class NotArticleEditor(Forbidden):
    code, detail = "not_article_editor", "Only the author, an editor or an admin may change this."


class UserNotFound(NotFound):
    code, detail = "user_not_found", "No user has this id."


class SelfLockout(Conflict):
    code, detail = "self_lockout", "You cannot deactivate yourself or drop your own admin role."
