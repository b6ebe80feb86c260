"""roll-ups of the supervisors' reports: report days and their per-day figures

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from counter_server.db import UTCDateTime

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'report_days',
        sa.Column('kind', sa.String(20), primary_key=True),
        sa.Column('day', sa.Date, primary_key=True),
        sa.Column('changes', sa.Integer, nullable=False, server_default='0'),
        sa.Column('rolled', sa.Integer, nullable=False, server_default='-1'),
        sa.Column('rolled_at', UTCDateTime, nullable=True),
    )
    op.create_table(
        'queue_rollups',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('day', sa.Date, nullable=False),
        sa.Column('office_slug', sa.String(80), nullable=False),
        sa.Column('queue_slug', sa.String(80), nullable=False),
        sa.Column('service_slug', sa.String(80), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('counter_id', sa.Integer, nullable=True),
        sa.Column('clerk_id', sa.Integer, nullable=True),
        sa.Column('tickets', sa.Integer, nullable=False),
        sa.Column('served', sa.Integer, nullable=False),
        sa.Column('no_shows', sa.Integer, nullable=False),
        sa.Column('transfers', sa.Integer, nullable=False),
        sa.Column('waits', sa.JSON, nullable=False),
        sa.Column('services', sa.JSON, nullable=False),
        sa.Column('hours', sa.JSON, nullable=False),
    )
    op.create_index('ix_queue_rollups_day', 'queue_rollups', ['day'])
    op.create_table(
        'request_rollups',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('day', sa.Date, nullable=False),
        sa.Column('service_slug', sa.String(80), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('clerk_id', sa.Integer, nullable=True),
        sa.Column('filed', sa.Integer, nullable=False),
        sa.Column('on_time', sa.Integer, nullable=False),
        sa.Column('hours', sa.JSON, nullable=False),
        sa.Column('reasons', sa.JSON, nullable=False),
        sa.Column('steps', sa.JSON, nullable=False),
    )
    op.create_index('ix_request_rollups_day', 'request_rollups', ['day'])


def downgrade() -> None:
    op.drop_index('ix_request_rollups_day', table_name='request_rollups')
    op.drop_table('request_rollups')
    op.drop_index('ix_queue_rollups_day', table_name='queue_rollups')
    op.drop_table('queue_rollups')
    op.drop_table('report_days')
