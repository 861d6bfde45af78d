"""mkdocs hook: the Python API page lists every public name of ``import acceldse`` at build time
(``acceldse._EXPORTS``, grouped by its comments), so a name added to the facade is documented at once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MARKER = "<!-- api-reference -->"


def reference() -> str:
    """One ``:::`` block (mkdocstrings) per public name, under the facade's group comments."""
    text = (Path(__file__).parent / "acceldse" / "__init__.py").read_text()
    block = text[text.index("_EXPORTS: dict"):]
    block = block[:block.index("\n}\n")]
    lines: list[str] = []
    for line in block.splitlines()[1:]:
        line = line.strip()
        if line.startswith("#"):
            lines += [f"## {line.lstrip('# ').capitalize()}", ""]
            continue
        match = re.match(r'"(\w+)": \("([\w.]+)", "(\w+)"\)', line)
        if match:
            name, module, attr = match.groups()
            lines += [f"### `acceldse.{name}`", "", f"::: {module}.{attr}", "    options:",
                      "      show_root_heading: false", ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    return markdown.replace(MARKER, reference()) if MARKER in markdown else markdown
