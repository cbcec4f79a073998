"""The QA review workspace (`callqa serve`): verdicts, manual grades, appeals and trends
over a run's output folder, in a SQL database (SQLite by default, PostgreSQL for a team).

    main.py      builds the app: settings, engine, rule pack, sessions, the routers
    config.py    the settings object
    deps.py      the routes' dependencies: workspace, connection, signed-in user, role, CSRF
    routes/      one APIRouter per resource: login, queue, calls, appeals, trends, admin
    forms.py     the posted forms as typed models
    pages.py     the Jinja2 environment and the page renderer
    errors.py    the errors a user can cause (400/403/404/409)
    queries.py   the reads behind the pages (SQL, the output folder's Parquet)
    callpage.py  what a call's page shows: the review joined with the report's view model
    service.py   every change a user makes, each with its audit-log row
    db.py        the tables, the engine, migrations (Alembic) on start
    ingest.py    the output folder's Parquet into the database (idempotent)
    scoring.py   the final score from verdicts, added findings and manual grades (pure)
    charts.py    inline SVG charts for the trends page (pure)
    auth.py      passwords (argon2), signed sessions, CSRF tokens, login throttling
    export.py    `callqa export reviews`: the review tables as Parquet
"""
