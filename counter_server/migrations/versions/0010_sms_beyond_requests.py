"""SMS beyond a request's events: queue messages for tickets, one-time codes for mobiles

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'mobile_confirmations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=36), nullable=False),
        sa.Column('national_code', sa.String(length=10), nullable=False),
        sa.Column('mobile', sa.String(length=11), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False,
                  comment="The client's address, for the limits"),
        sa.Column('code_digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
        sa.Column('expires_at', counter_server.db.UTCDateTime(), nullable=False),
        sa.Column('wrong_attempts', sa.Integer(), nullable=False),
        sa.Column('confirmed_at', counter_server.db.UTCDateTime(), nullable=True),
        sa.Column('check', sa.JSON(), nullable=True,
                  comment="The mobile check's answer and evidence, recorded with each filing"),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_confirmations')),
        sa.UniqueConstraint('public_id', name=op.f('uq_mobile_confirmations_public_id')),
    )
    for column in ('mobile', 'address', 'created_at'):
        op.create_index(op.f(f'ix_mobile_confirmations_{column}'), 'mobile_confirmations',
                        [column], unique=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('request_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('event_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column(
            'template', sa.String(length=60), nullable=True,
            comment="The provider's approved template of a one-time code"))
        batch_op.add_column(sa.Column(
            'token', sa.String(length=12), nullable=True,
            comment='A one-time code, until the provider has it (then cleared)'))
        batch_op.create_index(batch_op.f('ix_notifications_ticket_id'), ['ticket_id'])
        batch_op.create_index(batch_op.f('ix_notifications_confirmation_id'),
                              ['confirmation_id'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_ticket_id_tickets'),
                                    'tickets', ['ticket_id'], ['id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_notifications_confirmation_id_mobile_confirmations'),
            'mobile_confirmations', ['confirmation_id'], ['id'])
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'mobile', sa.String(length=11), nullable=True,
            comment='For «you are near» and «your turn» by SMS, if the person gave it'))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('mobile')
    op.execute("DELETE FROM notifications WHERE request_id IS NULL OR event_id IS NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_notifications_confirmation_id_mobile_confirmations'),
            type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_ticket_id_tickets'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_confirmation_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_ticket_id'))
        batch_op.drop_column('token')
        batch_op.drop_column('template')
        batch_op.drop_column('confirmation_id')
        batch_op.drop_column('ticket_id')
        batch_op.alter_column('event_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('request_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('mobile_confirmations')
