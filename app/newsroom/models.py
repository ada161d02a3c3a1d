"""newsroom's own tables, on the metadata Bastion's models share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_bastion.db import UTCDateTime
from flask_bastion.models import Base, User


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped on every write; the ETag is derived from it, so If-Match detects lost updates.
    version: Mapped[int] = mapped_column(Integer, default=1)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        # Newest-first lists and keyset (cursor) pages walk this index, whatever the depth.
        Index("ix_articles_created_at_id", "created_at", "id"),
        # The author filter, in the same order.
        Index("ix_articles_author_id_created_at_id", "author_id", "created_at", "id"),
    )
