"""catalog drafts edited in the browser, and when each service was last reviewed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=100), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True, comment='The version the draft started from'),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['base_version'], ['catalog_versions.number'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('part')
    )
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_at', counter_server.db.UTCDateTime(), nullable=True, comment='Last published with a change, or confirmed unchanged by an editor'))
    op.execute("UPDATE services SET reviewed_at = (SELECT published_at FROM catalog_versions "
               "WHERE catalog_versions.number = services.updated_in)")


def downgrade() -> None:
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('reviewed_at')
    op.drop_table('catalog_drafts')
