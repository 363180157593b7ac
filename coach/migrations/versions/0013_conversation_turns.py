"""recent turns of conversations without a history of their own (Teams chats), shared by every app process

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversationturn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('need_id', sa.String(length=32), nullable=False),
    sa.Column('reply_opening', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversationturn', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversationturn_conversation'), ['conversation'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversationturn_need_id'), ['need_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversationturn', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversationturn_need_id'))
        batch_op.drop_index(batch_op.f('ix_conversationturn_conversation'))
    op.drop_table('conversationturn')
