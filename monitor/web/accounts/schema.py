"""The web app's tables: people, their API tokens, the first-admin link, login throttling
and the app's own secrets. Operational state, not evidence: none of it is in the event log,
and `monitor rebuild` leaves it alone. Alembic's 0007 creates exactly these."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from monitor.store.schema import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # viewer | editor | admin
    Column("password_hash", Text),  # argon2id; NULL: the user signs in with tokens only
    Column("language", String(8)),  # NULL: the browser's Accept-Language, then [display]
    Column("timezone", String(64)),  # NULL: [display] timezone
    # Raised when the password changes or the user is removed: every session cookie
    # carries the epoch it was signed with, and an older one no longer signs in.
    Column("epoch", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=False), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=False), nullable=False),
    Column("last_used_at", DateTime(timezone=False)),
    Column("revoked_at", DateTime(timezone=False)),
    Index("ix_api_tokens_user", "user_id"),
)

# The one-time link that creates the first admin (only while there are no users).
invites = Table(
    "invites",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 of the link's secret
    Column("role", String(16), nullable=False),
    Column("expires_at", DateTime(timezone=False), nullable=False),
)

# Failed sign-ins, per account name and per client address: the throttle reads the
# recent ones, so it holds across every process of `monitor serve`.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("subject", String(200), nullable=False),  # "user:NAME" | "addr:IP"
    Column("at", DateTime(timezone=False), nullable=False),
    Index("ix_login_failures_subject", "subject", "at"),
)

# Secrets the app makes for itself (the session-signing key), shared by its processes.
web_secrets = Table(
    "web_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Feeds an admin marked public: readable with no login and no token.
public_feeds = Table(
    "public_feeds",
    metadata,
    Column("feed", String(300), primary_key=True),  # "all" | "source:NAME" | "tag:TAG"
    Column("marked_by", String(64), nullable=False),
    Column("marked_at", DateTime(timezone=False), nullable=False),
)
