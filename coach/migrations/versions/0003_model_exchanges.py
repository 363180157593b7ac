"""model exchanges

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:54:25.090462
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('modelexchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('template_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('chunk_ids', sa.JSON(), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('modelexchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_modelexchange_created_at'), ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('modelexchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_modelexchange_created_at'))

    op.drop_table('modelexchange')
