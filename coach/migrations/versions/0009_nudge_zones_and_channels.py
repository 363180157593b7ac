"""nudge schedules: each learner's time zone, and a channel as the target

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nudgeschedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zone_mode', sa.String(length=20), nullable=False, server_default='schedule'))
        batch_op.add_column(sa.Column('channel', sa.String(length=250), nullable=False, server_default=''))
    with op.batch_alter_table('nudgeoccurrence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zone', sa.String(length=60), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('nudgeoccurrence', schema=None) as batch_op:
        batch_op.drop_column('zone')
    with op.batch_alter_table('nudgeschedule', schema=None) as batch_op:
        batch_op.drop_column('channel')
        batch_op.drop_column('zone_mode')
