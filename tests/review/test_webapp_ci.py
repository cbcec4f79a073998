"""Under CI a missing PostgreSQL fails the review workspace's PostgreSQL tests instead of
skipping them (tests/conftest.py: missing); elsewhere they skip with the reason. And the
wheel carries the workspace's templates and migrations."""

from __future__ import annotations

from conftest import build_wheel
from e2e.test_ci_inputs import _check


def test_missing_postgresql_fails_under_ci(tmp_path):
    _check(tmp_path, ["tests/review/test_webapp_review.py::test_queue_filters_and_paging[postgresql]"],
           {"CALLQA_PG_BIN": str(tmp_path / "no-postgres")}, "PostgreSQL binaries not found")


def test_the_wheel_carries_the_workspace_templates_and_migrations(tmp_path):
    _log, names = build_wheel(tmp_path)
    assert {"flows/review/webapp/main.py", "flows/review/webapp/templates/review_call.html", "flows/review/webapp/templates/wstyle.css",
            "flows/review/webapp/migrations/env.py", "flows/review/webapp/migrations/versions/0001_review_workspace.py"} <= names
    # the routers and the common-password list (a missing one: a server without routes or policy)
    assert {"flows/review/webapp/routes/calls.py", "flows/review/webapp/common_passwords.txt",
            "flows/review/webapp/migrations/versions/0005_flag_reasons.py"} <= names
