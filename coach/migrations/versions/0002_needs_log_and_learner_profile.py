"""needs log and learner profile

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:28:59.903636
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('need',
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('feedback', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('feedback_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_need_learner_id'), ['learner_id'], unique=False)

    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('team', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='Europe/Amsterdam'))
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='en'))
        batch_op.add_column(sa.Column('preferences', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.drop_column('paused')
        batch_op.drop_column('preferences')
        batch_op.drop_column('language')
        batch_op.drop_column('timezone')
        batch_op.drop_column('team')
        batch_op.drop_column('role')

    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_learner_id'))
        batch_op.drop_index(batch_op.f('ix_need_created_at'))

    op.drop_table('need')
