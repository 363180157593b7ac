"""what an answered question asked about that the quoted content does not mention (a part left unanswered)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:00:00

Needs logged before this revision have none: they were answered or not, as a whole.
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_covered', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.drop_column('not_covered')
