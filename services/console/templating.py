"""Template folders of the console's subpackages (staff, registrant) beside the console's own: a subpackage's
templates live in its own `templates/<name>/` folder and extend the console's layout."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader

from services.console.web import TEMPLATES


def add_templates(folder: Path) -> None:
    loader = TEMPLATES.env.loader
    if isinstance(loader, ChoiceLoader):
        if any(getattr(x, "searchpath", None) == [str(folder)] for x in loader.loaders):
            return
        loader.loaders = [*loader.loaders, FileSystemLoader(str(folder))]
    else:
        TEMPLATES.env.loader = ChoiceLoader([loader, FileSystemLoader(str(folder))]) if loader else \
            FileSystemLoader(str(folder))
