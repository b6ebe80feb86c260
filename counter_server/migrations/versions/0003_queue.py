"""walk-in queue: offices, counters, tickets, leases, ticket events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('offices',
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_offices'))
    )
    op.create_table('counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_slug', sa.String(length=80), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False, comment='Shown on the board: «باجه ۳»'),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('queues', sa.JSON(), nullable=False),
    sa.Column('printer', sa.String(length=200), nullable=True, comment="host[:port] of the counter's network ESC/POS printer, if any"),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['office_slug'], ['offices.slug'], name=op.f('fk_counters_office_slug_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counters')),
    sa.UniqueConstraint('office_slug', 'number', name=op.f('uq_counters_office_slug'))
    )
    op.create_table('queue_days',
    sa.Column('office_slug', sa.String(length=80), nullable=False),
    sa.Column('queue_slug', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('next_number', sa.Integer(), nullable=False),
    sa.Column('consecutive_priority', sa.Integer(), nullable=False),
    sa.Column('served', sa.Integer(), server_default='0', nullable=False),
    sa.Column('service_seconds', sa.Integer(), server_default='0', nullable=False, comment="Total time spent serving this day's finished tickets (for wait estimates)"),
    sa.ForeignKeyConstraint(['office_slug'], ['offices.slug'], name=op.f('fk_queue_days_office_slug_offices')),
    sa.PrimaryKeyConstraint('office_slug', 'queue_slug', 'day', name=op.f('pk_queue_days'))
    )
    op.create_table('ticket_leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('office_slug', sa.String(length=80), nullable=False),
    sa.Column('queue_slug', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('first', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_ticket_leases_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['office_slug'], ['offices.slug'], name=op.f('fk_ticket_leases_office_slug_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_leases'))
    )
    with op.batch_alter_table('ticket_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_leases_kiosk_id'), ['kiosk_id'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=16), nullable=False, comment="In the ticket's QR: /q/<public_id>"),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('body_digest', sa.String(length=64), nullable=False),
    sa.Column('office_slug', sa.String(length=80), nullable=False),
    sa.Column('queue_slug', sa.String(length=80), nullable=False),
    sa.Column('service_slug', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('tracking_code', sa.String(length=16), nullable=True),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', counter_server.db.UTCDateTime(), nullable=False, comment="When the person took it (the kiosk's clock for kiosk tickets)"),
    sa.Column('received_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('assigned_counter_id', sa.Integer(), nullable=True, comment='Only this counter may call it (a transfer)'),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('called_by_id', sa.Integer(), nullable=True),
    sa.Column('called_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('serving_started_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_counter_id'], ['counters.id'], name=op.f('fk_tickets_assigned_counter_id_counters')),
    sa.ForeignKeyConstraint(['called_by_id'], ['users.id'], name=op.f('fk_tickets_called_by_id_users')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_tickets_counter_id_counters')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_tickets_issued_by_id_users')),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_tickets_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['office_slug'], ['offices.slug'], name=op.f('fk_tickets_office_slug_offices')),
    sa.ForeignKeyConstraint(['service_slug'], ['services.slug'], name=op.f('fk_tickets_service_slug_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('client_id', name=op.f('uq_tickets_client_id')),
    sa.UniqueConstraint('office_slug', 'queue_slug', 'day', 'number', name=op.f('uq_tickets_office_slug')),
    sa.UniqueConstraint('public_id', name=op.f('uq_tickets_public_id'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_tracking_code'), ['tracking_code'], unique=False)
        batch_op.create_index('ix_tickets_waiting', ['office_slug', 'day', 'status', 'queue_slug', 'issued_at'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_slug', sa.String(length=80), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', counter_server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_ticket_events_counter_id_counters')),
    sa.ForeignKeyConstraint(['office_slug'], ['offices.slug'], name=op.f('fk_ticket_events_office_slug_offices')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_office', ['office_slug', 'id'], unique=False)

    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_slug', sa.String(length=80), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_kiosks_office_slug_offices'), 'offices', ['office_slug'], ['slug'])


def downgrade() -> None:
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_kiosks_office_slug_offices'), type_='foreignkey')
        batch_op.drop_column('office_slug')

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_office')

    op.drop_table('ticket_events')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_waiting')
        batch_op.drop_index(batch_op.f('ix_tickets_tracking_code'))

    op.drop_table('tickets')
    with op.batch_alter_table('ticket_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_leases_kiosk_id'))

    op.drop_table('ticket_leases')
    op.drop_table('queue_days')
    op.drop_table('counters')
    op.drop_table('offices')
