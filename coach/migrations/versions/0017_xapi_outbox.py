"""the xAPI outbox to the company's LRS (coach/xapi/) and the deployment's shared secrets (its pseudonym key)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 23:40:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xapistatement',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('verb', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
    sa.Column('statement', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('xapistatement', schema=None) as batch_op:
        for column in ('learner_id', 'ref', 'state', 'next_at', 'created_at'):
            batch_op.create_index(batch_op.f(f'ix_xapistatement_{column}'), [column], unique=False)
    op.create_table('deploymentsecret',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('deploymentsecret')
    with op.batch_alter_table('xapistatement', schema=None) as batch_op:
        for column in ('learner_id', 'ref', 'state', 'next_at', 'created_at'):
            batch_op.drop_index(batch_op.f(f'ix_xapistatement_{column}'))
    op.drop_table('xapistatement')
