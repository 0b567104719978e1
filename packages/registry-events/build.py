"""Build the subscribers' package `registry-events` from the platform's shared/events.

The contract's source stays in one place (shared/events); this copies it under the public module name
`registry_events` (imports rewritten, with the one helper it needs, the clock protocol), adds the AsyncAPI
document (asyncapi.json) and builds the wheel. Its version is CONTRACT_VERSION.

    python packages/registry-events/build.py [--out DIR]     -> DIR/registry_events-<version>-py3-none-any.whl
    python packages/registry-events/build.py --source-only   -> only packages/registry-events/src/registry_events
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NAME = "registry_events"

APPENDIX = '''

def asyncapi_document() -> dict:
    """The AsyncAPI 3.0 document of this contract version (the platform serves the same)."""
    import json
    from importlib import resources

    return json.loads(resources.files(__name__).joinpath("asyncapi.json").read_text(encoding="utf-8"))


from registry_events.version import CONTRACT_VERSION as __version__  # noqa: E402
'''


def _rewrite(text: str) -> str:
    text = re.sub(r"\bshared\.events\b", NAME, text)
    return re.sub(r"\bfrom shared\.clock import\b", f"from {NAME}._clock import", text)


def write_source(target: Path = HERE / "src") -> Path:
    """The package's source tree under `target`; returns the package directory."""
    sys.path.insert(0, str(ROOT))
    from shared.events.asyncapi import document

    package = target / NAME
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    for module in sorted((ROOT / "shared" / "events").glob("*.py")):
        text = _rewrite(module.read_text(encoding="utf-8"))
        if module.name == "__init__.py":
            text += APPENDIX
        (package / module.name).write_text(text, encoding="utf-8")
    (package / "_clock.py").write_text(_rewrite((ROOT / "shared" / "clock.py").read_text(encoding="utf-8")),
                                       encoding="utf-8")
    (package / "asyncapi.json").write_text(json.dumps(document(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (package / "py.typed").write_text("", encoding="utf-8")
    leftover = [p.name for p in package.glob("*.py")
                if re.search(r"^\s*(from|import) shared\b", p.read_text(encoding="utf-8"), re.MULTILINE)]
    if leftover:
        raise SystemExit(f"modules still import the platform's shared package: {leftover}")
    return package


def build_wheel(out: Path) -> Path:
    write_source()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("build", f"src/{NAME.replace('_', '-')}.egg-info", f"src/{NAME}.egg-info"):
        shutil.rmtree(HERE / stale, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(HERE)], check=True)
    wheels = sorted(out.glob(f"{NAME}-*.whl"), key=lambda p: p.stat().st_mtime)
    return wheels[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "dist")
    parser.add_argument("--source-only", action="store_true")
    args = parser.parse_args()
    print(write_source() if args.source_only else build_wheel(args.out))


if __name__ == "__main__":
    main()
