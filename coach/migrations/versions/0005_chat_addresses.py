"""where the coach can reach people proactively

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chataddress',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('chataddress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chataddress_learner_id'), ['learner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chataddress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chataddress_learner_id'))
    op.drop_table('chataddress')
