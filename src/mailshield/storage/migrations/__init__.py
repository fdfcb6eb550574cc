"""The Alembic environment, shipped inside the package so an installed MailShield can migrate.

Run migrations through :mod:`mailshield.storage.migrate` (``mailshield db …``), which hands
``env.py`` an open connection; there is no ``alembic.ini``.
"""
