"""Title and end cards in many scripts, room captions, audio, provenance metadata, deterministic assembly."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenegen.core.errors import InputError, MissingDependencyError
from scenegen.core.io import write_png
from scenegen.paths import Keyframe, PathSpec
from scenegen.video import fonts
from scenegen.video.assemble import assemble_video, audio_seconds, read_mp4_metadata
from scenegen.video.fonts import ink_columns, split_runs, text_block
from scenegen.video.titles import (
    DISCLAIMERS,
    TourText,
    caption_alphas,
    disclaimer_line,
    frame_captions,
    room_segments,
    title_card,
)
from scenegen.video.writer import probe_video

NOTO = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
needs_fonts = pytest.mark.skipif(not (NOTO.is_file() and NOTO_CJK.is_file()),
                                 reason="needs the Debian packages fonts-noto-core and fonts-noto-cjk")

TITLES = {
    "en": ("Harbour View Apartment", "12 Quay Street, Bristol"),
    "el": ("Διαμέρισμα με θέα στο λιμάνι", "Οδός Αγίου Νικολάου 12, Αθήνα"),
    "ru": ("Квартира с видом на гавань", "ул. Пушкина, 12, Москва"),
    "ja": ("港が見えるマンション", "東京都港区芝浦1-2-3"),
    "ar": ("شقة مطلة على الميناء", "شارع الملك فهد ١٢، دبي"),
}


def _frames(folder: Path, n: int, size=(160, 90), value=110) -> list[Path]:
    out = []
    for k in range(n):
        out.append(folder / f"{k:05d}.png")
        write_png(out[-1], np.full((size[1], size[0], 3), value, np.uint8))
    return out


def _decode(path: Path) -> np.ndarray:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen]
    return np.stack(frames)


def _wav(path: Path, seconds: float, rate: int = 22050) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    x = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    return path


# ----------------------------------------------------------------------------------------------------------
# Scripts
# ----------------------------------------------------------------------------------------------------------


@needs_fonts
@pytest.mark.parametrize("lang", sorted(TITLES))
def test_title_card_in_each_script_has_real_glyphs(lang):
    from fontTools.ttLib import TTFont

    title, address = TITLES[lang]
    for text in (title, address, DISCLAIMERS[lang]):
        for run in split_runs(text, lang):
            with TTFont(run.file, fontNumber=run.index, lazy=True) as f:
                cmap = f.getBestCmap()
            missing = [c for c in run.text if ord(c) not in cmap]
            assert not missing, (lang, run.text, missing)  # nothing would be drawn as .notdef
            # and every glyph drawn differs from the font's .notdef box (U+E000, private use: not in Noto)
            font = fonts.font_for(run.file, run.index, 40)
            notdef = np.asarray(font.getmask("\ue000"))
            for c in set(run.text) - {" ", "،", "-", ",", "."}:
                glyph = np.asarray(font.getmask(c))
                assert glyph.size and glyph.max() > 0, (lang, c)
                assert glyph.shape != notdef.shape or not np.array_equal(glyph, notdef), (lang, c)
    card = title_card(TourText(language=lang, title=title, address=address), (480, 270))
    blank = title_card(TourText(language=lang, title=" ", disclaimer=False), (480, 270))
    ink = np.abs(card.astype(int) - blank.astype(int)).max(axis=2) > 60
    rows = np.flatnonzero(ink.any(axis=1))
    assert ink.sum() > 300 and rows.size > 20  # title, address and the disclaimer line drawn
    assert ink[-40:].sum() > 20  # the "computer-generated" line near the bottom


@needs_fonts
def test_mixed_scripts_on_one_line_use_a_font_per_run():
    runs = split_runs("Villa Ἀθηνᾶ Москва 東京 دبي", "en")
    files = [Path(r.file).name for r in runs]
    assert files[0].startswith("NotoSans-") and any("CJK" in f for f in files) and any("Arabic" in f for f in files)
    assert "".join(r.text for r in runs).replace(" ", "") == "VillaἈθηνᾶМосква東京دبي"
    zh = split_runs("东京", "zh")[0]
    ja = split_runs("東京", "ja")[0]
    assert (ja.index, zh.index) == (0, 2)  # the Japanese and Simplified Chinese faces of the CJK collection


@needs_fonts
@pytest.mark.parametrize("engine", ["raqm", "reshaper"])
def test_arabic_is_shaped_right_to_left(engine, monkeypatch):
    if engine == "raqm" and not fonts.has_raqm():
        pytest.skip("Pillow without libraqm")
    if engine == "reshaper":  # the fallback without libraqm: arabic-reshaper + python-bidi
        pytest.importorskip("arabic_reshaper")
        pytest.importorskip("bidi")
        monkeypatch.setattr(fonts, "has_raqm", lambda: False)
        fonts.font_for.cache_clear()
        monkeypatch.setattr(fonts, "font_for", fonts.font_for.__wrapped__)
    first, second = "بيت", "مستشفيات"  # logical order: the short word first
    line = text_block([(f"{first} {second}", 40, False, (255, 255, 255, 255))], 600, "ar")
    cols = ink_columns(line)
    gaps = np.flatnonzero(np.diff(cols) > 6)  # the space between the words
    assert gaps.size == 1
    left_w = cols[gaps[0]] - cols[0] + 1
    right_w = cols[-1] - cols[gaps[0] + 1] + 1

    def width(word):
        c = ink_columns(text_block([(word, 40, False, (255, 255, 255, 255))], 600, "ar"))
        return c[-1] - c[0] + 1

    assert abs(right_w - width(first)) <= 2 and abs(left_w - width(second)) <= 2  # first word on the right
    # shaped: the joined word is narrower than its letters drawn apart
    assert width(first) < sum(width(c) for c in first) - 4


def test_missing_font_is_one_line_naming_language_and_package(monkeypatch):
    dejavu = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0)
    if not Path(dejavu[0]).is_file():
        pytest.skip("needs DejaVu Sans")
    monkeypatch.setattr(fonts, "font_chain", lambda language, bold=False: [dejavu])
    with pytest.raises(MissingDependencyError) as e:
        title_card(TourText(language="ja", title="港が見える"), (160, 90))
    msg = str(e.value)
    assert "'ja'" in msg and "fonts-noto-cjk" in msg and "\n" not in msg


@needs_fonts
def test_disclaimer_on_by_default_translated_and_optional():
    assert disclaimer_line(TourText()) == "Computer-generated walkthrough"
    assert disclaimer_line(TourText(language="de")) == DISCLAIMERS["de"]
    assert disclaimer_line(TourText(language="pt-BR")) == DISCLAIMERS["pt"]
    assert disclaimer_line(TourText(language="xx")) == DISCLAIMERS["en"]
    assert disclaimer_line(TourText(language="de", disclaimer_text="Visualisierung")) == "Visualisierung"
    assert disclaimer_line(TourText(disclaimer=False)) is None
    on = title_card(TourText(title="Flat 12"), (320, 180))
    off = title_card(TourText(title="Flat 12", disclaimer=False), (320, 180))
    diff = np.abs(on.astype(int) - off.astype(int)).max(axis=2) > 40
    assert diff[-40:].sum() > 20 and diff[:120].sum() == 0  # only the bottom line differs


@needs_fonts
def test_logo_on_card_and_bad_logo(tmp_path: Path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), (230, 30, 30)).save(logo)
    card = title_card(TourText(title="Flat", logo=logo), (320, 180))
    red = (card[..., 0] > 200) & (card[..., 1] < 80) & (card[..., 2] < 80)
    assert red.sum() > 200
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(InputError) as e:
        title_card(TourText(title="Flat", logo=bad), (320, 180))
    assert e.value.field == "logo" and str(bad) in str(e.value)


# ----------------------------------------------------------------------------------------------------------
# Rooms and captions
# ----------------------------------------------------------------------------------------------------------


def test_room_segments_from_json_and_pathspec():
    rooms = [{"name": "kitchen", "start_time": 2.0, "end_time": 3.0},
             {"name": "living_room", "start_time": 0.5, "end_time": 2.0}]
    assert room_segments({"rooms": rooms}) == [("living_room", 0.5, 2.0), ("kitchen", 2.0, 3.0)]
    spec = PathSpec([Keyframe.look_at([0, 0, 1.6], [1, 0, 1.6])], extra={"rooms": rooms})
    assert room_segments(spec) == room_segments({"rooms": rooms})
    assert room_segments({}) == []
    with pytest.raises(InputError) as e:
        room_segments({"rooms": [{"name": "x", "start_time": 2, "end_time": 1}]})
    assert e.value.field == "rooms[0].end_time"
    text = TourText(captions={"kitchen": "Küche"})
    caps = frame_captions(room_segments({"rooms": rooms}), 40, 10, text)
    assert caps[:5] == [None] * 5 and set(caps[5:20]) == {"Living room"} and set(caps[20:30]) == {"Küche"}
    assert caps[30:] == [None] * 10
    assert frame_captions(room_segments({"rooms": rooms}), 40, 10, TourText(show_captions=False)) == [None] * 40
    a = caption_alphas(caps, 10)
    assert a[4] == 0 and 0 < a[5] < a[7] and a[10] == 1 and a[19] < 1 and a[30] == 0


@needs_fonts
def test_captions_appear_on_their_rooms_frames_only(tmp_path: Path):
    fps, n = 10, 40
    frames = _frames(tmp_path / "f", n)
    rooms = {"rooms": [{"name": "living_room", "start_time": 1.0, "end_time": 2.0},
                       {"name": "bedroom", "start_time": 3.0, "end_time": 3.5}]}
    text = TourText(language="ja", captions={"bedroom": "寝室"})
    caps = frame_captions(room_segments(rooms), n, fps, text)
    out = tmp_path / "cap.mp4"
    r = assemble_video(frames, out, fps=fps, text=text, captions=caps)
    assert r["frames"] == n and r["card_frames"] == 0  # no title: no cards
    video = _decode(out).astype(int)
    lower = np.abs(video[:, 55:85] - 110).max(axis=(1, 2, 3))  # the lower third
    upper = np.abs(video[:, :40] - 110).max(axis=(1, 2, 3))
    alphas = caption_alphas(caps, fps)
    for k in range(n):
        if caps[k] is None:
            assert lower[k] < 12, k
        elif alphas[k] == 1:
            assert lower[k] > 60, k
        assert upper[k] < 12  # captions stay in the lower third
    assert lower[12] > 60 and lower[31] > 60 and lower[25] < 12


# ----------------------------------------------------------------------------------------------------------
# Assembly: audio, metadata, determinism, atomicity
# ----------------------------------------------------------------------------------------------------------


@needs_fonts
def test_assembly_with_cards_audio_metadata_is_byte_identical(tmp_path: Path):
    fps = 12
    frames = _frames(tmp_path / "f", 24)
    text = TourText(language="ar", title=TITLES["ar"][0], address=TITLES["ar"][1], agency="Acme Realty",
                    card_seconds=1.0)
    caps = frame_captions([("majlis", 0.5, 1.5)], 24, fps, text)
    md = {"inputs": "run flat-12 (checkpoint 3f2a)", "scene": "flat-12", "run_sha256": "3f2a"}
    audio = _wav(tmp_path / "music.wav", 1.3)  # shorter than the video: padded with silence
    a = assemble_video(tmp_path / "f", tmp_path / "a.mp4", fps=fps, text=text, captions=caps, audio=audio,
                       metadata=md)
    b = assemble_video(frames, tmp_path / "b.mp4", fps=fps, text=text, captions=caps, audio=audio, metadata=md)
    assert a == b and a["frames"] == 24 + 2 * 12 and a["seconds"] == pytest.approx(4.0)
    ha = hashlib.sha256((tmp_path / "a.mp4").read_bytes()).hexdigest()
    assert ha == hashlib.sha256((tmp_path / "b.mp4").read_bytes()).hexdigest()
    meta = read_mp4_metadata(tmp_path / "a.mp4")
    assert meta["comment"] == "synthetic render made by scenegen 0.1.0 from run flat-12 (checkpoint 3f2a)"
    assert meta["synthetic_render"] == "true" and meta["scene"] == "flat-12" and meta["run_sha256"] == "3f2a"
    assert "creation_time" not in meta
    probe = probe_video(tmp_path / "a.mp4")
    assert probe["nframes"] == 48 and probe["audio_codec"] == "aac"
    assert audio_seconds(tmp_path / "a.mp4") == pytest.approx(4.0, abs=0.03)
    # the title card came first (dark), the tour frames after it (grey 110)
    video = _decode(tmp_path / "a.mp4")
    assert video[6, :20].mean() < 40 and abs(video[20, :20].astype(int).mean() - 110) < 4
    # a longer audio file is trimmed to the video
    long = assemble_video(frames, tmp_path / "c.mp4", fps=fps, audio=_wav(tmp_path / "long.wav", 6.0))
    assert long["seconds"] == pytest.approx(2.0)
    assert audio_seconds(tmp_path / "c.mp4") == pytest.approx(2.0, abs=0.03)
    assert audio_seconds(tmp_path / "b.mp4") is not None
    assert audio_seconds(tmp_path / "c.mp4") is not None
    nomusic = assemble_video(frames, tmp_path / "d.mp4", fps=fps)
    assert nomusic["frames"] == 24 and audio_seconds(tmp_path / "d.mp4") is None


def test_failed_assembly_keeps_the_old_video_and_leaves_no_temp(tmp_path: Path):
    frames = _frames(tmp_path / "f", 6)
    out = tmp_path / "out" / "v.mp4"
    assemble_video(frames, out, fps=6)
    before = out.read_bytes()
    (tmp_path / "f" / "00003.png").write_bytes(b"broken")
    with pytest.raises(InputError) as e:
        assemble_video(frames, out, fps=6)
    assert "00003.png" in str(e.value) and e.value.field == "frames"
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["v.mp4"]
    with pytest.raises(InputError) as e:
        assemble_video(frames[:2], out, fps=6, metadata={"bad key": "x"})
    assert e.value.field == "metadata"
    with pytest.raises(InputError) as e:
        assemble_video(frames[:2], out, fps=6, captions=[None])
    assert e.value.field == "captions"
    with pytest.raises(InputError) as e:
        assemble_video(tmp_path / "nothing", out, fps=6)
    assert e.value.field == "frames"
    assert sorted(p.name for p in out.parent.iterdir()) == ["v.mp4"]


def test_threaded_encode_is_byte_identical_under_different_timing(tmp_path: Path):
    """x264 runs several frame threads: busy textured frames encoded once alone and twice at the same time
    (different thread timing) give the same bytes."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)
    frames = []
    for k in range(30):
        frames.append(tmp_path / "f" / f"{k:05d}.png")
        write_png(frames[-1], np.roll(base, 3 * k, axis=1) // 2 + rng.integers(0, 64, base.shape, dtype=np.uint8))
    assemble_video(frames, tmp_path / "alone.mp4", fps=24)
    with ThreadPoolExecutor(2) as ex:
        list(ex.map(lambda name: assemble_video(frames, tmp_path / name, fps=24), ["a.mp4", "b.mp4"]))
    digests = {hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("alone.mp4", "a.mp4", "b.mp4")}
    assert len(digests) == 1


def test_frame_folder_takes_numbered_frames_and_refuses_gaps(tmp_path: Path):
    from scenegen.video.assemble import list_frames

    frames = _frames(tmp_path / "f", 3)
    Image.new("RGB", (8, 8)).save(tmp_path / "f" / "cover.png")  # not a frame: ignored
    assert list_frames(tmp_path / "f") == frames
    frames[1].unlink()
    with pytest.raises(InputError) as e:
        list_frames(tmp_path / "f")
    assert "00001.png is missing" in str(e.value) and e.value.field == "frames"


@needs_fonts
def test_long_titles_wrap_inside_the_frame():
    from scenegen.video.fonts import _NO_LINE_START, fit_lines, line_size, wrap_lines

    lines, size = fit_lines("港が見えるマンション 12階", 92, 908, "ja", True)
    assert lines == ["港が見えるマンション", "12階"] and 64 <= size < 92  # smaller, broken at the space
    long = "港が見えるマンションと東京タワーの夜景が楽しめる住まい"
    lines = wrap_lines(long, 64, 600, "ja", True)
    assert "".join(lines) == long and len(lines) >= 3
    assert all(line_size(ln, 64, "ja", True)[0] <= 600 for ln in lines)
    assert not any(ln[0] in _NO_LINE_START for ln in lines)
    en = wrap_lines("Harbour View Apartment with a very long name", 40, 300, "en", True)
    assert " ".join(en) == "Harbour View Apartment with a very long name"
    assert all(line_size(ln, 40, "en", True)[0] <= 300 for ln in en)
    card = title_card(TourText(language="ja", title=long), (270, 480))  # a tall frame
    ink = np.abs(card.astype(int) - card[0, 0].astype(int)).max(axis=2) > 60
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols.min() >= 270 * 0.08 - 2 and cols.max() <= 270 * 0.92 + 2


def test_odd_frame_sizes_and_bad_audio(tmp_path: Path):
    frames = _frames(tmp_path / "f", 4, size=(161, 91))
    r = assemble_video(frames, tmp_path / "odd.mp4", fps=4)
    assert r["size"] == [162, 92] and probe_video(tmp_path / "odd.mp4")["size"] == (162, 92)
    bad = tmp_path / "music.mp3"
    bad.write_bytes(b"ID3 but not really audio" * 10)
    with pytest.raises(InputError) as e:
        assemble_video(frames, tmp_path / "odd.mp4", fps=4, audio=bad)
    assert e.value.field == "audio" and str(bad) in str(e.value)
    with pytest.raises(InputError) as e:
        assemble_video(frames, tmp_path / "odd.mp4", fps=4, audio=tmp_path / "missing.wav")
    assert e.value.field == "audio"
