"""survey invitations

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 15:10:57.777715
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False, comment='Unguessable (secrets.token_urlsafe)'),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('service_slug', sa.String(length=80), nullable=False),
    sa.Column('office_slug', sa.String(length=80), nullable=True),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('answered_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clerk_id'], ['users.id'], name=op.f('fk_survey_invitations_clerk_id_users')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_survey_invitations_counter_id_counters')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_survey_invitations_request_id_requests')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_survey_invitations_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('token', name=op.f('uq_survey_invitations_token'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_service_slug'), ['service_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_id', sa.Integer(), nullable=True, comment='The SMS invitation answered; one answer per invitation'))
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ticket_ref_id', sa.Integer(), nullable=True, comment='The ticket row that `ticket_id` (its public id) names'))
        batch_op.add_column(sa.Column('office_slug', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('counter_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('clerk_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('score', sa.Float(), nullable=True, comment='The mean of the answers (1 … 5), kept for reports'))
        batch_op.create_index(batch_op.f('ix_survey_answers_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_request_id'), ['request_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_survey_answers_invitation_id'), ['invitation_id'])
        batch_op.create_foreign_key(batch_op.f('fk_survey_answers_request_id_requests'), 'requests', ['request_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_survey_answers_counter_id_counters'), 'counters', ['counter_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_survey_answers_invitation_id_survey_invitations'), 'survey_invitations', ['invitation_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_survey_answers_ticket_ref_id_tickets'), 'tickets', ['ticket_ref_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_survey_answers_clerk_id_users'), 'users', ['clerk_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_survey_answers_clerk_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_survey_answers_ticket_ref_id_tickets'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_survey_answers_invitation_id_survey_invitations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_survey_answers_counter_id_counters'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_survey_answers_request_id_requests'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_survey_answers_invitation_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_survey_answers_request_id'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_received_at'))
        batch_op.drop_column('score')
        batch_op.drop_column('channel')
        batch_op.drop_column('clerk_id')
        batch_op.drop_column('counter_id')
        batch_op.drop_column('office_slug')
        batch_op.drop_column('ticket_ref_id')
        batch_op.drop_column('request_id')
        batch_op.drop_column('invitation_id')

    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitations_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_service_slug'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_request_id'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_created_at'))

    op.drop_table('survey_invitations')
