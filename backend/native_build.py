"""Build the compiler's native modules with mypyc (see ``langorch/ckp/native.py``).

    python backend/native_build.py [--out backend/build/native]

Compiles :data:`langorch.ckp.native.MODULES` from this checkout into ``--out`` and
writes the manifest that lets ``langorch.ckp`` load them while the sources are
unchanged. Needs a C compiler and the Python headers; exits 1 with mypyc's message
when the build fails (the pure-Python modules keep working).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    os.environ["LANGORCH_NATIVE"] = "0"  # read the sources, not a previous build
    sys.path.insert(0, str(HERE))
    from langorch.ckp import native

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=native.BUILD_DIR)
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()

    from mypyc.build import mypycify
    from setuptools import Distribution  # type: ignore[import-untyped]

    sources = [f"langorch/ckp/{name}.py" for name in native.MODULES]
    hashes = native.source_hashes()
    staging = Path(tempfile.mkdtemp(prefix="langorch-native-"))
    cwd = Path.cwd()
    os.chdir(HERE)  # mypyc names modules after their paths relative to the working directory
    try:
        extensions = mypycify(sources, opt_level="3", group_name=native.GROUP,
                              target_dir=str(staging / "c"))
        dist = Distribution({"name": "langorch-native", "ext_modules": extensions})
        command = dist.get_command_obj("build_ext")
        command.build_lib = str(staging / "lib")
        command.build_temp = str(staging / "tmp")
        dist.run_command("build_ext")
    finally:
        os.chdir(cwd)
    if native.source_hashes() != hashes:
        print("native build: the sources changed during the build; run it again", file=sys.stderr)
        return 1
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(staging / "lib", out)
    shutil.rmtree(staging, ignore_errors=True)
    manifest = {"build": native.build_tag(), "sources": hashes}
    (out / native.MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"native build: {len(sources)} modules in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
