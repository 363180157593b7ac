"""Random keys a deployment makes once and every replica shares, kept in its database (so nothing has to be
configured for them): the xAPI pseudonyms' key, the signing key of source links."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from coach.store.models import DeploymentSecret
from kernel.store import session


def secret(engine: Engine, name: str) -> bytes:
    """Made by whichever process asks first; the primary key settles a race between replicas."""
    with session(engine) as db:
        found = db.get(DeploymentSecret, name)
        if found is None:
            db.add(DeploymentSecret(name=name, value=secrets.token_hex(32)))
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
            found = db.get(DeploymentSecret, name)
        return bytes.fromhex(found.value)
