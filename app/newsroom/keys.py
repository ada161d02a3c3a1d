"""``newsroom keys``: list and rotate the access-token signing keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from flask_bastion import clock, current_bastion
from flask_bastion.signing_keys import fingerprint


@click.group()
def keys() -> None:
    """Access-token signing keys (published at /.well-known/jwks.json)."""


@keys.command("rotate")
@with_appcontext
def rotate() -> None:
    """Create a new signing key; the current one keeps verifying until its tokens expire."""
    store = current_bastion().keys
    now = clock.now()
    key = store.rotate(now)
    click.echo(
        f"new signing key {key.kid} (fingerprint {fingerprint(key)}); it signs from "
        f"{(now + store.cache_ttl).isoformat(timespec='seconds')}, once every instance knows it"
    )


@keys.command("list")
@with_appcontext
def list_keys() -> None:
    """Show every stored key: when it was made, when it stopped signing, until when it verifies."""
    store = current_bastion().keys
    now = clock.now()
    store.invalidate()
    signer = store.signing_key(now)
    for key in store.keys(now):
        until = store.verifies_until(key)
        if key.kid == signer.kid:
            state = "signing"
        elif key.retired_at is None:
            state = "next"  # published; signs once every instance has learnt it
        elif until is not None and now >= until:
            state = "expired"
        else:
            state = "verifying"  # retired; its last tokens are still alive
        click.echo(
            f"{key.kid}  {state:9}  created {key.created_at.isoformat(timespec='seconds')}  "
            f"verifies until {until.isoformat(timespec='seconds') if until else '-'}  "
            f"fingerprint {fingerprint(key)}"
        )
