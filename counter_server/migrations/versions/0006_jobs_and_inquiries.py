"""background jobs, circuit breakers and usage of outside systems; inquiries and their evidence

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('circuits',
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False, comment='closed, open or half_open'),
    sa.Column('failures', sa.Integer(), nullable=False, comment='Failures in a row while closed'),
    sa.Column('open_until', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('probe_until', counter_server.db.UTCDateTime(), nullable=True, comment="While half-open: the probe's lease"),
    sa.Column('changed_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('target', name=op.f('pk_circuits'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False, comment='Which handler runs it, e.g. inquiry'),
    sa.Column('key', sa.String(length=200), nullable=False, comment='Idempotency key: one job per cause'),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=True, comment='The outside system it calls (its circuit and quota)'),
    sa.Column('status', sa.String(length=10), nullable=False, comment='queued, running, done or dead'),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_at', counter_server.db.UTCDateTime(), nullable=False, comment="Not before: the next attempt's time"),
    sa.Column('lease_until', counter_server.db.UTCDateTime(), nullable=True, comment='A running job whose lease ran out is taken again'),
    sa.Column('leased_by', sa.String(length=80), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_jobs_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_due', ['status', 'run_at'], unique=False)

    op.create_table('usage_days',
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('cost_rials', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('target', 'day', 'shard', name=op.f('pk_usage_days'))
    )
    op.create_table('evidence_heads',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_evidence_heads_request_id_requests')),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_evidence_heads'))
    )
    op.create_table('inquiries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.String(length=80), nullable=False, comment="The catalog inquiry's id"),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('blocking', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False, comment='pending, done (holds), failed (does not hold) or manual (to check by hand)'),
    sa.Column('summary', sa.Text(), nullable=True, comment='The result in plain Persian'),
    sa.Column('round', sa.Integer(), nullable=False, comment='Asked again: a new round'),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('asked_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('answered_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('manual_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_inquiries_decided_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_inquiries_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiries')),
    sa.UniqueConstraint('request_id', 'inquiry_id', name=op.f('uq_inquiries_request_id'))
    )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiries_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inquiries_status'), ['status'], unique=False)

    op.create_table('inquiry_exchanges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False, comment="Place in the request's chain, from 1"),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False, comment="0 for a clerk's manual result"),
    sa.Column('outcome', sa.String(length=16), nullable=False, comment='answered, refused, timeout, unavailable, malformed, bad_signature or manual'),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=True),
    sa.Column('reply_id', sa.String(length=64), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('sent_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('received_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('request_digest', sa.String(length=64), nullable=False, comment='SHA-256 of what was sent'),
    sa.Column('reply_digest', sa.String(length=64), nullable=False, comment='SHA-256 of what came back'),
    sa.Column('signature', sa.Text(), nullable=True),
    sa.Column('signature_key', sa.String(length=80), nullable=True),
    sa.Column('signature_valid', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True, comment="The error, or the clerk's reason"),
    sa.Column('request_body', sa.LargeBinary(), nullable=True, comment='Personal data: removed after the retention period'),
    sa.Column('reply_body', sa.LargeBinary(), nullable=True),
    sa.Column('purged_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_inquiry_exchanges_inquiry_id_inquiries')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_inquiry_exchanges_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_exchanges')),
    sa.UniqueConstraint('inquiry_id', 'round', 'attempt', name=op.f('uq_inquiry_exchanges_inquiry_id')),
    sa.UniqueConstraint('request_id', 'seq', name=op.f('uq_inquiry_exchanges_request_id'))
    )
    with op.batch_alter_table('inquiry_exchanges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_exchanges_inquiry_id'), ['inquiry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inquiry_exchanges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_exchanges_inquiry_id'))

    op.drop_table('inquiry_exchanges')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiries_status'))
        batch_op.drop_index(batch_op.f('ix_inquiries_request_id'))

    op.drop_table('inquiries')
    op.drop_table('evidence_heads')
    op.drop_table('usage_days')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_due')

    op.drop_table('jobs')
    op.drop_table('circuits')
