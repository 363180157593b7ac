"""seen platform events; a note with feedback

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:10:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seenevent',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
    sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('seenevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seenevent_seen_at'), ['seen_at'], unique=False)
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.drop_column('feedback_note')
    with op.batch_alter_table('seenevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seenevent_seen_at'))
    op.drop_table('seenevent')
