"""Regenerate the table of docs/errors.md from tests.test_errors.catalogue(): `python docs/make_errors_table.py`.

tests/test_docs.py checks that every catalogue row appears in docs/errors.md, so run this whenever the catalogue
in tests/test_errors.py changes."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_errors import catalogue

PAGE = ROOT / "docs" / "errors.md"
START, END = "<!-- catalogue -->", "<!-- /catalogue -->"


def table() -> str:
    rows = ["| # | input | message |", "|---:|---|---|"]
    rows += [f"| {i} | {case} | `` Error: {message} `` |" for i, (case, message) in enumerate(catalogue(), 1)]
    return "\n".join(rows)


def main() -> None:
    text = PAGE.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{START}\n{table()}\n{END}{tail}")
    print(f"{PAGE.relative_to(ROOT)}: {len(catalogue())} rows")


if __name__ == "__main__":
    main()
