"""Full-text search over case titles and text: FTS5 with the trigram tokenizer.

Trigrams need no word segmentation, so one index serves Chinese (``漏水严重``)
and English (``water leak``) alike. A term of three characters or more becomes a
quoted FTS5 phrase (quoted, so operators typed by a user are just text); a
shorter term (``漏水``) is matched with LIKE on the same table, which is correct
but scans. Terms are ANDed.
"""

from __future__ import annotations

from crm.cases import case_from_row
from crm.db import Database
from crm.errors import InvalidFieldError
from crm.models import Case

MAX_QUERY = 200
MAX_TERMS = 8


def _like(term: str) -> str:
    esc = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{esc}%"


def plan(query: str) -> tuple[str | None, list[str]]:
    """Split a user's query into an FTS5 MATCH expression and LIKE patterns."""
    if len(query) > MAX_QUERY:
        raise InvalidFieldError("q", f"at most {MAX_QUERY} characters, got {len(query)}")
    if "\x00" in query:  # FTS5 would take it as the end of the phrase: every case
        raise InvalidFieldError("q", "contains a NUL character")
    terms = query.split()
    if not terms:
        raise InvalidFieldError("q", "is empty")
    if len(terms) > MAX_TERMS:
        raise InvalidFieldError("q", f"at most {MAX_TERMS} terms, got {len(terms)}")
    long = ['"' + t.replace('"', '""') + '"' for t in terms if len(t) >= 3]
    short = [_like(t) for t in terms if len(t) < 3]
    return (" AND ".join(long) or None), short


async def search_cases(
    db: Database, query: str, *, department: str | None = None, limit: int = 50
) -> list[Case]:
    match, likes = plan(query)
    where: list[str] = []
    args: list[object] = []
    if match is not None:
        where.append("case_fts MATCH ?")
        args.append(match)
    for pat in likes:
        where.append("(case_fts.title LIKE ? ESCAPE '\\' OR case_fts.text LIKE ? ESCAPE '\\')")
        args += [pat, pat]
    if department is not None:
        where.append("c.department = ?")
        args.append(department)
    order = "case_fts.rank" if match is not None else "c.id DESC"
    rows = await db.fetchall(
        "SELECT c.* FROM case_fts JOIN cases c ON c.id = case_fts.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
        (*args, limit),
    )
    return [case_from_row(r) for r in rows]
