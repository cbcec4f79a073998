"""An openai-whisper checkpoint (tiny ... large-v3, turbo, fine-tuned) to a CTranslate2 model
folder for the faster engine, offline (`callqa model convert CHECKPOINT DIR`).

1. The checkpoint's state dict is renamed to Hugging Face's Whisper layout (the mapping of
   transformers' models/whisper/convert_openai_to_hf.py) and loaded into a
   `transformers.WhisperForConditionalGeneration` built from the checkpoint's dims.
2. The tokenizer comes from openai-whisper's own tiktoken vocabulary
   (whisper/assets/multilingual.tiktoken or gpt2.tiktoken, with the special tokens its
   `get_encoding` defines for the checkpoint's vocabulary size), turned into a
   `tokenizer.json` with transformers' TikTokenConverter: nothing from the hub.
3. ctranslate2's Whisper loader (the one its TransformersConverter uses) makes the model
   spec; the decoding config gets whisper's own suppress tokens, language tokens and, for a
   checkpoint openai-whisper knows by its SHA-256, its alignment heads (else the last half
   of the decoder's heads, openai-whisper's own default for an unknown checkpoint).
4. Every tensor of the written model.bin is compared with the checkpoint's
   (`compare_with_checkpoint`); a difference beyond float16 rounding fails the conversion.

The folder is written next to DEST and renamed into place when complete.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Names of the openai-whisper state dict -> Hugging Face's (transformers'
#: convert_openai_to_hf.WHISPER_MAPPING, applied in this order).
HF_NAMES = (
    ("blocks", "layers"),
    ("mlp.0", "fc1"),
    ("mlp.2", "fc2"),
    ("mlp_ln", "final_layer_norm"),
    (".attn.query", ".self_attn.q_proj"),
    (".attn.key", ".self_attn.k_proj"),
    (".attn.value", ".self_attn.v_proj"),
    (".attn_ln", ".self_attn_layer_norm"),
    (".attn.out", ".self_attn.out_proj"),
    (".cross_attn.query", ".encoder_attn.q_proj"),
    (".cross_attn.key", ".encoder_attn.k_proj"),
    (".cross_attn.value", ".encoder_attn.v_proj"),
    (".cross_attn_ln", ".encoder_attn_layer_norm"),
    (".cross_attn.out", ".encoder_attn.out_proj"),
    ("decoder.ln.", "decoder.layer_norm."),
    ("encoder.ln.", "encoder.layer_norm."),
    ("token_embedding", "embed_tokens"),
    ("encoder.positional_embedding", "encoder.embed_positions.weight"),
    ("decoder.positional_embedding", "decoder.embed_positions.weight"),
    ("ln_post", "layer_norm"),
)
QUANTIZATIONS = ("float16", "float32", "int8", "int8_float16")
#: Largest difference allowed between a written tensor and the checkpoint's (float16
#: rounding of float32 weights; a float16 checkpoint written as float16 is exact).
TOLERANCE = 1e-2
#: Written last: a folder without it is an interrupted conversion.
DONE = ".complete"


class ConvertError(RuntimeError):
    pass


@dataclass(frozen=True)
class Conversion:
    dest: Path
    multilingual: bool
    n_vocab: int
    layers: tuple[int, int]
    tensors_compared: int
    max_abs_diff: float
    alignment_heads: str  # "openai-whisper's for <name>" or "default (last half)"
    #: True when DEST already held this checkpoint's conversion (nothing was done).
    reused: bool = False


def load_checkpoint(path: str | Path) -> tuple[dict, dict]:
    """(dims, state dict) of an openai-whisper checkpoint."""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        return dict(ckpt["dims"]), ckpt["model_state_dict"]
    except Exception as exc:  # noqa: BLE001 - anything unreadable is not a whisper checkpoint
        raise ConvertError(f"not an openai-whisper checkpoint: {path}: {type(exc).__name__}: {exc}") from exc


def hf_name(name: str) -> str:
    for old, new in HF_NAMES:
        name = name.replace(old, new)
    return name


def _is_multilingual(n_vocab: int) -> bool:
    return n_vocab >= 51865


def whisper_encoding(n_vocab: int):
    """openai-whisper's tiktoken encoding for a checkpoint with `n_vocab` tokens."""
    from whisper.tokenizer import get_encoding

    multilingual = _is_multilingual(n_vocab)
    num_languages = n_vocab - 51765 - int(multilingual)
    return get_encoding("multilingual" if multilingual else "gpt2", num_languages=num_languages)


def build_tokenizer(n_vocab: int):
    """A `tokenizers.Tokenizer` with the token ids of openai-whisper's encoding."""
    from transformers.convert_slow_tokenizer import TikTokenConverter
    from whisper.tokenizer import get_encoding  # noqa: F401 - the assets ship with it

    import whisper

    enc = whisper_encoding(n_vocab)
    name = "multilingual" if _is_multilingual(n_vocab) else "gpt2"
    vocab_file = Path(whisper.__file__).parent / "assets" / f"{name}.tiktoken"
    specials = sorted(enc._special_tokens.items(), key=lambda kv: kv[1])
    tok = TikTokenConverter(vocab_file=str(vocab_file), pattern=enc._pat_str,
                            extra_special_tokens=[t for t, _ in specials]).converted()
    for token, i in specials:
        if tok.token_to_id(token) != i:
            raise ConvertError(f"tokenizer: {token} got id {tok.token_to_id(token)}, whisper's is {i}")
    return tok, enc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _alignment_heads(checkpoint: Path, dims: dict, heads_of: str | None = None) -> tuple[list[tuple[int, int]], str]:
    """openai-whisper's alignment heads for the model `heads_of` names (tiny ... turbo), or
    for a checkpoint it publishes (found by SHA-256 in its download URLs), else the last
    half of the decoder's heads (its default for a checkpoint it does not know)."""
    import whisper

    if heads_of is not None and heads_of not in whisper._ALIGNMENT_HEADS:
        raise ConvertError(f"no alignment heads known for {heads_of!r} (one of {', '.join(whisper._ALIGNMENT_HEADS)})")
    digest = _sha256(checkpoint)
    for name, url in whisper._MODELS.items():
        if (name == heads_of or (heads_of is None and digest in url)) and name in whisper._ALIGNMENT_HEADS:
            raw = gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS[name]))
            mask = np.frombuffer(raw, dtype=bool)
            if mask.size != dims["n_text_layer"] * dims["n_text_head"]:
                raise ConvertError(f"{name}'s alignment heads do not fit this checkpoint's decoder")
            mask = mask.reshape(dims["n_text_layer"], dims["n_text_head"])
            return [tuple(map(int, x)) for x in np.argwhere(mask)], f"openai-whisper's for {name}"
    n, heads = dims["n_text_layer"], dims["n_text_head"]
    return list(itertools.product(range(n // 2, n), range(heads))), "default (last half of the decoder)"


def hf_model(dims: dict, state: dict):
    """transformers' WhisperForConditionalGeneration holding the checkpoint's weights."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    config = WhisperConfig(
        vocab_size=dims["n_vocab"], num_mel_bins=dims["n_mels"], d_model=dims["n_audio_state"],
        encoder_layers=dims["n_audio_layer"], encoder_attention_heads=dims["n_audio_head"],
        decoder_layers=dims["n_text_layer"], decoder_attention_heads=dims["n_text_head"],
        encoder_ffn_dim=4 * dims["n_audio_state"], decoder_ffn_dim=4 * dims["n_text_state"],
        max_source_positions=dims["n_audio_ctx"], max_target_positions=dims["n_text_ctx"],
    )
    model = WhisperForConditionalGeneration(config).eval()
    renamed = {hf_name(k): v.float() for k, v in state.items() if k != "alignment_heads"}
    missing, unexpected = model.model.load_state_dict(renamed, strict=False)
    if unexpected or set(missing) - {"encoder.embed_positions.weight", "decoder.embed_positions.weight"}:
        raise ConvertError(f"checkpoint does not fit Whisper: missing {sorted(missing)[:5]}, "
                           f"unexpected {sorted(unexpected)[:5]}")
    with torch.no_grad():
        model.proj_out.weight = model.model.decoder.embed_tokens.weight  # tied, as in whisper
    return model


def convert(checkpoint: str | Path, dest: str | Path, *, quantization: str = "float16",
            force: bool = False, heads_of: str | None = None) -> Conversion:
    """Convert `checkpoint` into the CTranslate2 model folder `dest`; compare its tensors.

    `heads_of`: take openai-whisper's word-alignment heads of that model (e.g. "base" for a
    re-saved copy of base whose bytes, hence SHA-256, differ from openai's download)."""
    from ctranslate2.converters.transformers import WhisperLoader

    checkpoint, dest = Path(checkpoint), Path(dest)
    if quantization not in QUANTIZATIONS:
        raise ConvertError(f"quantization must be one of {', '.join(QUANTIZATIONS)}: {quantization!r}")
    if not checkpoint.is_file():
        raise ConvertError(f"no such checkpoint: {checkpoint}")
    # What makes a conversion this one: the checkpoint's bytes (not its path: the same file
    # seen from another checkout or machine is the same model) and the two settings.
    stamp = {"sha256": _sha256(checkpoint), "quantization": quantization, "heads_of": heads_of}
    if not force and is_converted(dest):
        done = json.loads((dest / DONE).read_text())
        if {k: done.get(k) for k in stamp} == stamp or _same_weights(dest, done, checkpoint, stamp):
            return Conversion(dest, done["multilingual"], done["n_vocab"], tuple(done["layers"]),
                              done["tensors_compared"], done["max_abs_diff"], done["alignment_heads"], reused=True)
    if dest.exists() and not force:
        raise ConvertError(f"{dest} exists and is not a conversion of {checkpoint} (--force replaces it)")
    stamp |= {"checkpoint": str(checkpoint.resolve()), "bytes": checkpoint.stat().st_size}
    dims, state = load_checkpoint(checkpoint)
    tokenizer, enc = build_tokenizer(dims["n_vocab"])
    model = hf_model(dims, state)

    class _Tok:  # what ctranslate2's WhisperLoader asks of a tokenizer
        def get_vocab(self):
            return tokenizer.get_vocab(with_added_tokens=True)

    spec = WhisperLoader()(model, _Tok())
    from whisper.tokenizer import get_tokenizer

    wt = get_tokenizer(_is_multilingual(dims["n_vocab"]), num_languages=enc.n_vocab - 51765 - int(_is_multilingual(dims["n_vocab"])))
    heads, heads_from = _alignment_heads(checkpoint, dims, heads_of)
    spec.config.alignment_heads = [list(h) for h in heads]
    # What openai-whisper's decoder suppresses by default ("-1"): the non-speech tokens and
    # the task/control tokens; at a segment's start also the blank and end of text.
    control = [wt.transcribe, wt.translate, wt.sot, wt.sot_prev, wt.sot_lm, wt.no_speech]
    spec.config.suppress_ids = sorted({*wt.non_speech_tokens, *(t for t in control if t is not None)})
    spec.config.suppress_ids_begin = [*wt.encode(" "), wt.eot]
    spec.config.lang_ids = sorted(wt.all_language_tokens) if _is_multilingual(dims["n_vocab"]) else []
    spec.validate()
    spec.optimize(quantization=quantization)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}-", dir=dest.parent) as tmp:
        staged = Path(tmp) / "model"
        staged.mkdir()
        spec.save(str(staged))
        tokenizer.save(str(staged / "tokenizer.json"))
        (staged / "preprocessor_config.json").write_text(json.dumps({
            "feature_size": dims["n_mels"], "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30,
            "n_fft": 400, "n_samples": 480000, "nb_max_frames": 3000}, indent=2))
        rows = compare_with_checkpoint(staged, state)
        worst = max(d for _, d in rows)
        if worst > TOLERANCE:
            bad = [name for name, d in rows if d > TOLERANCE][:5]
            raise ConvertError(f"converted tensors differ from the checkpoint (max {worst:g}): {bad}")
        (staged / DONE).write_text(json.dumps({
            **stamp, "multilingual": _is_multilingual(dims["n_vocab"]), "n_vocab": dims["n_vocab"],
            "layers": [dims["n_audio_layer"], dims["n_text_layer"]], "tensors_compared": len(rows),
            "max_abs_diff": worst, "alignment_heads": heads_from}) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        staged.rename(dest)
    return Conversion(dest, _is_multilingual(dims["n_vocab"]), dims["n_vocab"],
                      (dims["n_audio_layer"], dims["n_text_layer"]), len(rows), worst, heads_from)


def _same_weights(dest: Path, done: dict, checkpoint: Path, stamp: dict) -> bool:
    """A conversion stamped without the checkpoint's SHA-256 (callqa before it kept one) is
    this checkpoint's when its settings match and every tensor equals the checkpoint's; its
    stamp then gets the hash, so the check runs once."""
    if "sha256" in done or any(done.get(k) != stamp[k] for k in ("quantization", "heads_of")):
        return False
    if done.get("bytes") != checkpoint.stat().st_size:
        return False
    _, state = load_checkpoint(checkpoint)
    try:
        rows = compare_with_checkpoint(dest, state)
    except (ConvertError, OSError, ValueError):
        return False
    if max(d for _, d in rows) > TOLERANCE:
        return False
    staged = dest / f"{DONE}.tmp"
    staged.write_text(json.dumps({**done, "sha256": stamp["sha256"]}) + "\n")
    staged.replace(dest / DONE)
    return True


def is_converted(dest: str | Path) -> bool:
    return (Path(dest) / DONE).is_file()


# -- comparing with the checkpoint ------------------------------------------------------

_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16"}


def read_ct2_variables(path: str | Path) -> dict[str, np.ndarray]:
    """name -> numpy array for CTranslate2's model.bin (format version 6); int8 weights
    come with their `_scale`."""
    out = {}
    with open(path, "rb") as f:
        def num(fmt: str):
            return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]

        def string() -> str:
            return f.read(num("H")).rstrip(b"\0").decode()

        version = num("I")
        if version != 6:
            raise ConvertError(f"unsupported CTranslate2 model.bin version {version}")
        string(), num("I")  # spec name, revision
        for _ in range(num("I")):
            name, rank = string(), num("B")
            dims = [num("I") for _ in range(rank)]
            dtype, nbytes = num("B"), num("I")
            raw = f.read(nbytes)
            if dtype in _DTYPES:
                out[name] = np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(dims)
        for _ in range(num("I") if f.peek(1) else 0):  # aliases: name -> the variable it shares
            alias, target = string(), string()
            if target in out:
                out[alias] = out[target]
    return out


def expected_variables(state: dict) -> dict[str, np.ndarray]:
    """What each CTranslate2 variable must hold, from the openai state dict (CTranslate2
    fuses self-attention q/k/v and cross-attention k/v; a missing key bias is zeros)."""
    s = {k: v.float().numpy() for k, v in state.items() if k != "alignment_heads"}
    out: dict[str, np.ndarray] = {}

    def attn(prefix: str, src: str, fused_qkv: bool) -> None:
        q, k, v = (s[f"{src}.{n}.weight"] for n in ("query", "key", "value"))
        qb, vb = s[f"{src}.query.bias"], s[f"{src}.value.bias"]
        if fused_qkv:
            out[f"{prefix}/linear_0/weight"] = np.concatenate([q, k, v])
            out[f"{prefix}/linear_0/bias"] = np.concatenate([qb, np.zeros_like(qb), vb])
            o = 1
        else:
            out[f"{prefix}/linear_0/weight"], out[f"{prefix}/linear_0/bias"] = q, qb
            out[f"{prefix}/linear_1/weight"] = np.concatenate([k, v])
            out[f"{prefix}/linear_1/bias"] = np.concatenate([np.zeros_like(vb), vb])
            o = 2
        out[f"{prefix}/linear_{o}/weight"], out[f"{prefix}/linear_{o}/bias"] = s[f"{src}.out.weight"], s[f"{src}.out.bias"]

    def ln(prefix: str, src: str) -> None:
        out[f"{prefix}/gamma"], out[f"{prefix}/beta"] = s[f"{src}.weight"], s[f"{src}.bias"]

    for side in ("encoder", "decoder"):
        n = 1 + max(int(k.split(".")[2]) for k in s if k.startswith(f"{side}.blocks."))
        for i in range(n):
            src, dst = f"{side}.blocks.{i}", f"{side}/layer_{i}"
            attn(f"{dst}/self_attention", f"{src}.attn", True)
            ln(f"{dst}/self_attention/layer_norm", f"{src}.attn_ln")
            if side == "decoder":
                attn(f"{dst}/attention", f"{src}.cross_attn", False)
                ln(f"{dst}/attention/layer_norm", f"{src}.cross_attn_ln")
            ln(f"{dst}/ffn/layer_norm", f"{src}.mlp_ln")
            for j, m in ((0, 0), (1, 2)):
                out[f"{dst}/ffn/linear_{j}/weight"] = s[f"{src}.mlp.{m}.weight"]
                out[f"{dst}/ffn/linear_{j}/bias"] = s[f"{src}.mlp.{m}.bias"]
        out[f"{side}/position_encodings/encodings"] = s[f"{side}.positional_embedding"]
    for c in ("conv1", "conv2"):
        out[f"encoder/{c}/weight"], out[f"encoder/{c}/bias"] = s[f"encoder.{c}.weight"], s[f"encoder.{c}.bias"]
    ln("encoder/layer_norm", "encoder.ln_post")
    ln("decoder/layer_norm", "decoder.ln")
    out["decoder/embeddings/weight"] = s["decoder.token_embedding.weight"]
    return out


def compare_with_checkpoint(model_dir: str | Path, state: dict) -> list[tuple[str, float]]:
    """(variable, max absolute difference) for every weight the checkpoint defines; a
    variable missing from model.bin is an error. int8 weights are dequantized first."""
    ct2 = read_ct2_variables(Path(model_dir) / "model.bin")
    rows = []
    for name, want in expected_variables(state).items():
        got = ct2.get(name)
        if got is None:
            raise ConvertError(f"{name} is not in the converted model")
        got = got.astype(np.float32)
        scale = ct2.get(name.rsplit("/", 1)[0] + "/weight_scale")
        if got.dtype != want.dtype or (scale is not None and name.endswith("/weight")):
            if scale is not None and name.endswith("/weight"):
                got = got / scale.astype(np.float32).reshape(-1, *([1] * (got.ndim - 1)))
        got = got.reshape(want.shape)
        with np.errstate(invalid="ignore", over="ignore"):
            # Equal values differ by 0 (infinities, and NaN in the same place on both sides, as
            # a checkpoint may hold); a NaN on one side only counts as infinitely different, so
            # it can never pass the tolerance (NaN > x is False).
            same = (got == want) | (np.isnan(got) & np.isnan(want))
            diff = np.where(same, 0.0, np.abs(got - want))
        rows.append((name, float(np.nan_to_num(diff, nan=np.inf).max(initial=0.0))))
    return rows
