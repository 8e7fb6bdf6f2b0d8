"""What the service stores: TAN hashes, opaque entries, bundles, sealed messages.

Nothing here links the entries of one upload: an entry row has no upload id
and no time finer than its day, and its key starts with its (random-looking)
tag. SQLite stores such a table in key order (``WITHOUT ROWID``), so rows are
listed in tag order from the start. PostgreSQL keeps rows in the order they
were written: until the bundler publishes them (at most the publication
deadline later) and rewrites them in tag order, a raw copy of the table shows
which pending rows arrived together.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Integer, LargeBinary, MetaData, String, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tan(Base):
    """An issued, unredeemed TAN: only its keyed hash. Redeeming deletes the row."""

    __tablename__ = "tans"

    hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class TanCount(Base):
    """How many TANs were issued in one hour: the issuing rate limit."""

    __tablename__ = "tan_counts"

    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    issued: Mapped[int] = mapped_column(Integer)


class Entry(Base):
    """One sealed exposure entry, as uploaded or confirmed; the key is the entry itself."""

    __tablename__ = "entries"
    __table_args__ = {"sqlite_with_rowid": False}

    sealed: Mapped[bytes] = mapped_column(LargeBinary(255), primary_key=True)
    tag: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    received_day: Mapped[dt.date] = mapped_column(index=True)
    bundle_sequence: Mapped[int | None] = mapped_column(BigInteger, index=True)
    #: published by the authority itself (venue traces): the bundle's authority
    #: section, the only one whose venue-confirmed entries warn (protocol §8)
    authority: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PublishedSlot(Base):
    """A venue-confirmed slot the authority published (``POST /v1/venue-entries``):
    a digest of it, so that the same confirmation is not published twice.

    The digest covers the slot's entry key, which the service never holds, so it
    names no venue, hour or window to the service; ``tag`` (already public in the
    bundle) lets a revocation forget it. Purged with the entries, by day.
    """

    __tablename__ = "published_slots"
    __table_args__ = {"sqlite_with_rowid": False}

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    tag: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    published_day: Mapped[dt.date] = mapped_column(index=True)


class Bundle(Base):
    """A published, signed bundle: immutable bytes."""

    __tablename__ = "bundles"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
    first_hour: Mapped[int] = mapped_column(BigInteger)
    last_hour: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)


class IndexFile(Base):
    """The signed compact index of a bundle (protocol §18): immutable bytes, one per bundle."""

    __tablename__ = "bundle_indexes"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    shards: Mapped[int] = mapped_column(Integer)


class ShardFile(Base):
    """One signed shard of a bundle (protocol §18): immutable bytes."""

    __tablename__ = "shards"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))


class Publication(Base):
    """The last published sequence and time: one row, kept when bundles are purged,
    so sequence numbers only ever grow and no device refuses a new bundle as a
    rollback."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Revocation(Base):
    """A revoked tag; the next bundle's header carries it."""

    __tablename__ = "revocations"

    tag: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    revoked_day: Mapped[dt.date] = mapped_column(index=True)
    bundle_sequence: Mapped[int | None] = mapped_column(BigInteger)


class ConsentMessage(Base):
    """A warned person's contact details, sealed to the authority: ciphertext only."""

    __tablename__ = "consent_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_day: Mapped[dt.date] = mapped_column(index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary(512))


class StaffToken(Base):
    """A staff API token: only its hash, and the role it grants."""

    __tablename__ = "staff_tokens"

    hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
