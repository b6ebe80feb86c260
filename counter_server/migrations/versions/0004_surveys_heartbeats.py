"""survey answers and kiosk heartbeats

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('body_digest', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('service_slug', sa.String(length=80), nullable=True),
    sa.Column('tracking_code', sa.String(length=16), nullable=True),
    sa.Column('ticket_id', sa.String(length=16), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=True, comment="The answering device's clock (a kiosk's)"),
    sa.Column('received_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_survey_answers_kiosk_id_kiosks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sa.UniqueConstraint('client_id', name=op.f('uq_survey_answers_client_id'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_service_slug'), ['service_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_tracking_code'), ['tracking_code'], unique=False)

    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', counter_server.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('heartbeat', sa.JSON(), nullable=False, server_default=sa.text("'{}'"),
                                      comment="The kiosk's last report: version, outbox, printer, clock"))



def downgrade() -> None:
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_column('heartbeat')
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_tracking_code'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_service_slug'))

    op.drop_table('survey_answers')
