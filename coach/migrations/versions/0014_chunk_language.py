"""the language each chunk is written in (the keyword index stems it in that language)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00

Chunks indexed before this revision count as English until their source is ingested again.
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chunk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('chunk', schema=None) as batch_op:
        batch_op.drop_column('language')
