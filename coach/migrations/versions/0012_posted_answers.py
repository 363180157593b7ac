"""which chat message carries which answer (Teams' feedback buttons name only the message)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('postedanswer',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('need_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('postedanswer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postedanswer_need_id'), ['need_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('postedanswer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postedanswer_need_id'))
    op.drop_table('postedanswer')
