"""The QA review workspace (`callqa serve`): verdicts, manual grades, appeals and trends
over a run's output folder, in a SQL database (SQLite by default, PostgreSQL for a team).

    db.py        the tables, the engine, migrations (Alembic) on start
    ingest.py    the output folder's Parquet into the database (idempotent)
    scoring.py   the final score from verdicts, added findings and manual grades (pure)
    charts.py    inline SVG charts for the trends page (pure)
    auth.py      passwords (argon2), signed sessions, CSRF tokens, login throttling
    service.py   every change a user makes, each with its audit-log row
    app.py       the FastAPI app: pages and the JSON API
    export.py    `callqa export reviews`: the review tables as Parquet
"""
