"""deliverables: documents delivered to citizens

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deliverables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False, comment='Unguessable: 120 random bits, for /v/<public_id>'),
    sa.Column('client_id', sa.String(length=36), nullable=False, comment='Idempotency key chosen by the client'),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='card, licence, certificate, letter'),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('masked_national_code', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False, comment='template or upload'),
    sa.Column('issued_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False, comment='The issue date the seal states'),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment='Of the signed PDF'),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('seal_text', sa.Text(), nullable=False, comment="The QR's text: address and seal"),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_deliverables_issued_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_deliverables_request_id_requests')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_deliverables_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliverables')),
    sa.UniqueConstraint('client_id', name=op.f('uq_deliverables_client_id')),
    sa.UniqueConstraint('number', name=op.f('uq_deliverables_number')),
    sa.UniqueConstraint('public_id', name=op.f('uq_deliverables_public_id')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_deliverables_stored_name'))
    )
    with op.batch_alter_table('deliverables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverables_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deliverables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverables_request_id'))

    op.drop_table('deliverables')
