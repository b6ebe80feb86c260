"""requests, documents, notifications, staff, kiosks, audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kiosks',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosks')),
    sa.UniqueConstraint('name', name=op.f('uq_kiosks_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosks_token_hash'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=16), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False, comment='Idempotency key chosen by the client'),
    sa.Column('body_digest', sa.String(length=64), nullable=False),
    sa.Column('service_slug', sa.String(length=80), nullable=False),
    sa.Column('catalog_version', sa.Integer(), nullable=False, comment='The catalog version whose terms (steps, fees, duration …) apply'),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('applicant_name', sa.String(length=100), nullable=False),
    sa.Column('applicant_national_code', sa.String(length=10), nullable=False),
    sa.Column('applicant_mobile', sa.String(length=11), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('current_step', sa.Integer(), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False, comment='Why staff should look twice (e.g. filed on an old catalog)'),
    sa.Column('payment_reference', sa.String(length=100), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('client_created_at', counter_server.db.UTCDateTime(), nullable=True, comment="The kiosk's clock when it filed the request"),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('check_failures', sa.Integer(), nullable=False),
    sa.Column('check_locked_until', counter_server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_requests_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['catalog_version'], ['catalog_versions.number'], name=op.f('fk_requests_catalog_version_catalog_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_requests_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['service_slug'], ['services.slug'], name=op.f('fk_requests_service_slug_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requests')),
    sa.UniqueConstraint('client_id', name=op.f('uq_requests_client_id')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_requests_tracking_code'))
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_requests_inbox', ['status', 'service_slug', 'created_at'], unique=False)

    op.create_table('service_assignments',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('service_slug', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['service_slug'], ['services.slug'], name=op.f('fk_service_assignments_service_slug_services')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_service_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'service_slug', name=op.f('pk_service_assignments'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_audit_log_request_id_requests')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)

    op.create_table('request_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('slot', sa.String(length=60), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False, comment='For display only'),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('media_type', sa.String(length=50), nullable=False, comment='Detected from the bytes'),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=10), nullable=False),
    sa.Column('uploaded_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('replaced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_request_documents_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_documents')),
    sa.UniqueConstraint('client_id', name=op.f('uq_request_documents_client_id')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_request_documents_stored_name'))
    )
    with op.batch_alter_table('request_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_documents_request_id'), ['request_id'], unique=False)

    op.create_table('request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=10), nullable=False, comment='citizen, staff, kiosk or system'),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('public_note', sa.Text(), nullable=True),
    sa.Column('internal_note', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_request_events_request_id_requests')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_request_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_events'))
    )
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_events_request_id'), ['request_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('event', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', counter_server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['request_events.id'], name=op.f('fk_notifications_event_id_request_events')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_notifications_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_status'))
        batch_op.drop_index(batch_op.f('ix_notifications_request_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_events_request_id'))

    op.drop_table('request_events')
    with op.batch_alter_table('request_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_documents_request_id'))

    op.drop_table('request_documents')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_request_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('service_assignments')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_inbox')
        batch_op.drop_index('ix_requests_created_at')

    op.drop_table('requests')
    op.drop_table('users')
    op.drop_table('kiosks')
