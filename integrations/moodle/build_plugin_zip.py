#!/usr/bin/env python3
"""Build the installable zip of the Moodle plugin ``local_microcred``.

    python3 integrations/moodle/build_plugin_zip.py [--out DIR]

writes ``DIR/local_microcred-<release>.zip`` (default ``dist/``) with the plugin under a
top folder ``microcred/``, the layout Moodle's installer expects (Site administration >
Plugins > Install plugins, or unzip into ``<moodle>/local/``). Prints the zip's path.
Only the standard library; exits 1 with one line on stderr when something is wrong.
"""
from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent / "local_microcred"
TOP = "microcred"  # local/<name>: the zip's top folder is the plugin's name, without its type


def release(plugin_dir: Path = PLUGIN_DIR) -> str:
    text = (plugin_dir / "version.php").read_text(encoding="utf-8")
    component = re.search(r"\$plugin->component\s*=\s*'([^']+)'", text)
    found = re.search(r"\$plugin->release\s*=\s*'([^']+)'", text)
    if not component or component.group(1) != "local_microcred" or not found:
        raise ValueError(f"{plugin_dir / 'version.php'} does not declare local_microcred and its release")
    return found.group(1)


def build(out_dir: Path, plugin_dir: Path = PLUGIN_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"local_microcred-{release(plugin_dir)}.zip"
    files = sorted(p for p in plugin_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and "__pycache__" not in p.parts)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{TOP}/{path.relative_to(plugin_dir).as_posix()}", date_time=(2025, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the installable zip of the Moodle plugin local_microcred.")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="folder to write the zip to (default: dist)")
    args = parser.parse_args(argv)
    try:
        print(build(args.out))
    except (OSError, ValueError) as exc:
        print(f"build_plugin_zip: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
