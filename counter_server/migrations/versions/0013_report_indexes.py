"""indexes for the supervisors' reports

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_tickets_day', 'tickets', ['day'])
    op.create_index('ix_ticket_events_action', 'ticket_events', ['action', 'ticket_id'])
    op.create_index('ix_requests_due', 'requests', ['status', 'due_date', 'assigned_to_id'])


def downgrade() -> None:
    op.drop_index('ix_requests_due', table_name='requests')
    op.drop_index('ix_ticket_events_action', table_name='ticket_events')
    op.drop_index('ix_tickets_day', table_name='tickets')
