"""the web chat's conversation per learner, kept so it survives a reload (coach/transcripts.py)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webexchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('said', sa.Text(), nullable=False),
    sa.Column('reply', sa.JSON(), nullable=False),
    sa.Column('used', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webexchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webexchange_learner_id'), ['learner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webexchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webexchange_learner_id'))
    op.drop_table('webexchange')
