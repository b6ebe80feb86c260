"""SMS states: parts, provider, provider's id, cost, Persian reason, delivery time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts', sa.Integer(), server_default='1', nullable=False, comment='SMS parts the text takes (and is billed as)'))
        batch_op.add_column(sa.Column('provider', sa.String(length=20), nullable=True, comment='Which provider sent it'))
        batch_op.add_column(sa.Column('provider_id', sa.String(length=64), nullable=True, comment="The provider's message id"))
        batch_op.add_column(sa.Column('cost_rials', sa.Integer(), nullable=True, comment='As the provider billed it'))
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=True, comment='Why it failed, in Persian'))
        batch_op.add_column(sa.Column('delivered_at', counter_server.db.UTCDateTime(), nullable=True))
    op.execute("UPDATE notifications SET status = 'queued' WHERE status = 'pending'")


def downgrade() -> None:
    op.execute("UPDATE notifications SET status = 'pending' WHERE status IN ('queued', 'held')")
    op.execute("UPDATE notifications SET status = 'sent' WHERE status = 'delivered'")
    op.execute("UPDATE notifications SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('reason')
        batch_op.drop_column('cost_rials')
        batch_op.drop_column('provider_id')
        batch_op.drop_column('provider')
        batch_op.drop_column('parts')
