"""catalog: versions, categories, services

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counter_server.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_versions',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False, comment='SHA-256 of the canonical catalog'),
    sa.Column('published_at', counter_server.db.UTCDateTime(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('snapshot', sa.LargeBinary(), nullable=False, comment='The exact JSON body of GET /api/v1/catalog for this version'),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_catalog_versions'))
    )
    op.create_table('categories',
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('icon', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_categories'))
    )
    op.create_table('services',
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('category_slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('introduced_in', sa.Integer(), nullable=False),
    sa.Column('updated_in', sa.Integer(), nullable=False),
    sa.Column('withdrawn_in', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['category_slug'], ['categories.slug'], name=op.f('fk_services_category_slug_categories')),
    sa.ForeignKeyConstraint(['introduced_in'], ['catalog_versions.number'], name=op.f('fk_services_introduced_in_catalog_versions')),
    sa.ForeignKeyConstraint(['updated_in'], ['catalog_versions.number'], name=op.f('fk_services_updated_in_catalog_versions')),
    sa.ForeignKeyConstraint(['withdrawn_in'], ['catalog_versions.number'], name=op.f('fk_services_withdrawn_in_catalog_versions')),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_services'))
    )
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_services_category_slug'), ['category_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_services_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_services_status'))
        batch_op.drop_index(batch_op.f('ix_services_category_slug'))

    op.drop_table('services')
    op.drop_table('categories')
    op.drop_table('catalog_versions')
