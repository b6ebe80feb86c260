"""staff sessions that can be ended, and a second factor

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False, comment='Raised to end every session: logout, disabling, a new password'))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True, comment="The second factor's TOTP secret (base32); none before enrolment"))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True, comment='The time step of the last accepted code: a code counts once'))
        batch_op.add_column(sa.Column('recovery_codes', sa.JSON(), server_default='[]', nullable=False, comment='SHA-256 of the unused recovery codes'))
        batch_op.add_column(sa.Column('two_factor_since', counter_server.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('two_factor_since')
        batch_op.drop_column('recovery_codes')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('session_version')
