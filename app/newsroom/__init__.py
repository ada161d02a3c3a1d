"""newsroom: the reference app built on flask_bastion.

``create_app`` lives in :mod:`newsroom.factory` and is loaded on first use: importing the
package loads nothing else, so the process that only supervises the server's workers
(:mod:`newsroom.serving`) never holds Flask, SQLAlchemy or the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .factory import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
