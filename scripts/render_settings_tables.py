"""Rewrite the settings sections of README.md from `<plugin> --about --format=markdown`.

Each plugin's section sits between `<!-- settings:<plugin>:start -->` and
`<!-- settings:<plugin>:end -->`. Headings are moved two levels down so the plugin's own title
fits under the README's sections. Run `python scripts/render_settings_tables.py` after changing a
setting; `--check` fails if README.md is stale.
"""

from __future__ import annotations

import re
import sys

from about_blocks import PLUGINS, REPO_ROOT, about, replace_block, run

README = REPO_ROOT / "README.md"


def readme_block(markdown: str) -> str:
    """What goes between a plugin's markers, from its `--about --format=markdown`."""
    demoted = re.sub(r"^(#+) ", r"\1## ", markdown.strip(), flags=re.MULTILINE)
    return f"\n{demoted}\n\n"


def render(readme: str) -> str:
    for plugin in PLUGINS:
        readme = replace_block(
            readme,
            f"<!-- settings:{plugin}:start -->",
            f"<!-- settings:{plugin}:end -->",
            readme_block(about(plugin, "markdown")),
            where="README.md",
        )
    return readme


if __name__ == "__main__":
    sys.exit(run(README, render, __doc__.splitlines()[0]))
