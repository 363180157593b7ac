"""the inbox of accepted platform events (coach/inbox.py), and which inbox event claimed a message

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inboxevent',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('progress', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('inboxevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inboxevent_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_inboxevent_lease_until'), ['lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_inboxevent_received_at'), ['received_at'], unique=False)
    with op.batch_alter_table('seenevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('seenevent', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('inboxevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inboxevent_received_at'))
        batch_op.drop_index(batch_op.f('ix_inboxevent_lease_until'))
        batch_op.drop_index(batch_op.f('ix_inboxevent_state'))
    op.drop_table('inboxevent')
