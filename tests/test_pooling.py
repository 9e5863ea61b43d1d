"""Nothing breaks behind PgBouncer in transaction pooling: the code keeps no session state.

In transaction pooling each transaction may run on another server connection, so anything that
outlives a transaction on the server is lost or leaks to another client: session-level advisory
locks, ``SET`` without ``LOCAL``, ``set_config(…, false)``, ``LISTEN``, temporary tables,
``PREPARE``, cursors ``WITH HOLD``. This test reads every Python file of the project but the
tests (SQL lives in string literals) and fails on any of them. Server-side cursors
(``.iterator()``) and psycopg's prepared statements are turned off by
``DATABASE_POOLING=transaction`` (tests/test_replica.py); ``drills/pgbouncer.py`` runs the
whole stack through a real PgBouncer.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The tests talk to PostgreSQL directly, never through PgBouncer: they may set session state.
SKIPPED_FOLDERS = {".venv", "var", "node_modules", ".git", "staticfiles", "__pycache__", "tests"}
# Tools that refuse to run behind a transaction pooler and say so (like migrate, backup and
# restore, they need a direct connection): they may keep session state.
DIRECT_CONNECTION_TOOLS = {
    # seed_scale bulk-loads with session settings and temporary tables across transactions;
    # it refuses DATABASE_POOLING=transaction (test_seed_scale_refuses_a_transaction_pooler).
    Path("coop/scale.py"),
}

SESSION_LOCK = re.compile(r"\bpg_(try_)?advisory_(lock|unlock)(_shared|_all)?\b", re.IGNORECASE)
SESSION_CONFIG = re.compile(r"\bset_config\s*\([^)]*,\s*false\s*\)", re.IGNORECASE)
# Statements whose effect outlives the transaction. ``SET LOCAL``, ``SET TRANSACTION`` and
# ``SET CONSTRAINTS`` end with it and are fine.
SESSION_STATEMENT = re.compile(
    r"""^\s*(
        SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)
      | RESET\b
      | LISTEN\b | UNLISTEN\b
      | PREPARE\b
      | CREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\s+TABLE\b
      | DECLARE\b[^;]*\bWITH\s+HOLD\b
    )""",
    re.VERBOSE,
)
# The same in lower case, where it reads as SQL ("set search_path to …", "reset all"), not as
# an English sentence in a docstring ("Set the invoice's status.").
LOWER_SESSION_STATEMENT = re.compile(
    r"^\s*(set\s+(session\s+)?[a-z_.]+\s*(=|(?i:to)\s)|reset\s+(all|[a-z_]+\.[a-z_]+)\s*$"
    r"|listen\s+\w+\s*$|create\s+temp(orary)?\s+table\b)"
)
NAMED_CURSOR = re.compile(r"\.cursor\(\s*(name\s*=|[\"'])")


def project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIPPED_FOLDERS.intersection(relative.parts) or path == Path(__file__).resolve():
            continue
        if relative in DIRECT_CONNECTION_TOOLS:
            continue
        files.append(path)
    return sorted(files)


def string_literals(tree: ast.AST):
    """Yield (line, text) of each string literal; an f-string's constant parts joined."""
    parts_of_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if id(node) in parts_of_fstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            parts = [part.value if isinstance(part, ast.Constant) else "x" for part in node.values]
            yield node.lineno, "".join(parts)


def session_state_in(source: str) -> list[tuple[int, str]]:
    """Return (line, statement) for each use of session-level state in a Python source."""
    found = []
    for line, text in string_literals(ast.parse(source)):
        if SESSION_LOCK.search(text) or SESSION_CONFIG.search(text):
            found.append((line, text.strip()))
            continue
        for statement in text.split(";"):
            if SESSION_STATEMENT.match(statement) or LOWER_SESSION_STATEMENT.match(statement):
                found.append((line, statement.strip()))
    for number, text in enumerate(source.splitlines(), start=1):
        if NAMED_CURSOR.search(text):
            found.append((number, text.strip()))
    return found


def test_the_project_keeps_no_session_state_on_the_database_server():
    files = project_files()
    assert len(files) > 100  # the scan really reads the project
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {statement[:100]}"
        for path in files
        for line, statement in session_state_in(path.read_text())
    ]
    assert offences == []


def test_the_scan_finds_each_kind_of_session_state():
    offending = {
        'cursor.execute("SELECT pg_advisory_lock(%s)", [1])': 1,
        'cursor.execute("SELECT pg_try_advisory_lock(42)")': 1,
        'cursor.execute("SELECT pg_advisory_unlock_all()")': 1,
        "cursor.execute(\"SELECT set_config('audit.redaction', 'on', false)\")": 1,
        'cursor.execute("SET statement_timeout = 0")': 1,
        'cursor.execute("set search_path TO public")': 1,
        'cursor.execute("SET SESSION audit.redaction = %s", ["on"])': 1,
        'cursor.execute(f"SET work_mem = {size}")': 1,
        'cursor.execute("BEGIN; SET lock_timeout = 5")': 1,
        'cursor.execute("RESET ALL")': 1,
        'cursor.execute("reset all")': 1,
        'cursor.execute("listen invoices")': 1,
        'cursor.execute("create temporary table scratch (pk int)")': 1,
        'cursor.execute("LISTEN invoices")': 1,
        'cursor.execute("CREATE TEMP TABLE scratch (pk int)")': 1,
        'cursor.execute("PREPARE q AS SELECT 1")': 1,
        'cursor.execute("DECLARE c CURSOR WITH HOLD FOR SELECT 1")': 1,
        'connection.connection.cursor(name="big")': 1,
    }
    for source, count in offending.items():
        assert len(session_state_in(source)) == count, source

    allowed = [
        'cursor.execute("SELECT pg_advisory_xact_lock(%s)", [1])',
        'cursor.execute("SELECT pg_try_advisory_xact_lock(42)")',
        "cursor.execute(\"SELECT set_config('audit.redaction', 'on', true)\")",
        "cursor.execute(\"SET LOCAL audit.redaction = 'on'\")",
        'cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")',
        'cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")',
        'cursor.execute("UPDATE coop_cache SET expires = %s WHERE cache_key = %s")',
        'cursor.execute("INSERT INTO t VALUES (1) ON CONFLICT (k) DO UPDATE"\n" SET v = 2")',
        'name = "Settlement"',
        'def f():\n    """Set the status of the invoice."""',
        'help_text = "Reset the password"',
        "with connection.cursor() as cursor: pass",
    ]
    for source in allowed:
        assert session_state_in(source) == [], source
