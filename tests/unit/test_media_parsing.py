"""Pure parts of the ffmpeg modules: settings, concat lists, image headers, log parsing, onsets."""

from __future__ import annotations

import io
import json
import struct
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from handler.errors import InvalidPlan, InvalidUri, ObjectNotFound
from handler.render.ffmpeg.images import image_size
from handler.render.ffmpeg.mux import concat_chunks, concat_list
from handler.render.settings import EncoderSettings
from tooling.media import onset_time, parse

STDERR = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'out.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:00:02.00, start: 0.000000, bitrate: 514 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1280x720 \
[SAR 1:1 DAR 16:9], 507 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
      Metadata:
        handler_name    : VideoHandler
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 192 kb/s (default)
Stream mapping:
  Stream #0:0 -> #0:0 (copy)
"""

FRAMECRC = """#extradata 0:       48, 0x34670dff
#tb 0: 1/15360
#media_type 0: video
#codec_id 0: h264
#dimensions 0: 1280x720
#tb 1: 1/48000
#media_type 1: audio
#codec_id 1: pcm_s16le
#sample_rate 1: 48000
#channel_layout_name 1: stereo
0,      -1024,          0,      512,     5606, 0x40ae92b7
0,       -512,       1024,      512,     2721, 0xde324ec3, F=0x0
1,          0,          0,     1024,     4096, 0x00000000
0,          0,        512,      512,     1662, 0x4ccb3d97, F=0x0
0,        512,       1536,      512,     1229, 0xc9bf6c01
1,       1024,       1024,     1024,     4096, 0x00000000
"""


def test_parse_reads_streams_tags_and_packets() -> None:
    info = parse(STDERR, FRAMECRC)
    assert (info.video_codec, info.width, info.height, info.pix_fmt) == ("h264", 1280, 720, "yuv420p")
    assert (info.color_range, info.color_space, info.color_primaries, info.color_trc) == ("tv", *["bt709"] * 3)
    assert info.fps == Fraction(30)
    assert info.frame_count == 4
    assert info.keyframes == (0, 3)  # presentation order
    assert info.video_duration == pytest.approx(4 / 30)
    assert info.video_extradata_crc == "0x34670dff"
    assert (info.audio_codec, info.sample_rate, info.channels, info.audio_samples) == ("aac", 48000, 2, 2048)
    assert info.duration == 2.0


def test_parse_reads_three_part_colour_tags() -> None:
    stderr = STDERR.replace("yuv420p(tv, bt709, progressive)", "yuv420p(pc, bt470bg/bt709/smpte170m)")
    info = parse(stderr, "")
    assert (info.color_range, info.color_space, info.color_primaries, info.color_trc) == (
        "pc",
        "bt470bg",
        "bt709",
        "smpte170m",
    )
    assert info.frame_count == 0


def test_onset_time_finds_the_first_loud_sample() -> None:
    samples = struct.pack("<6h", 0, 10, -20, -9000, 100, 12000)
    assert onset_time(samples, 48000, 0.25) == 3 / 48000
    assert onset_time(samples, 48000, 0.5) is None


def test_concat_list_quotes_every_path(tmp_path: Path) -> None:
    odd = tmp_path / "it's a chunk.mp4"
    text = concat_list([odd])
    assert text.splitlines()[0] == "ffconcat version 1.0"
    assert text.splitlines()[1] == "file '" + str(odd).replace("'", "'\\''") + "'"
    with pytest.raises(InvalidUri, match="line break"):
        concat_list([tmp_path / "a\nb.mp4"])


def test_concat_chunks_refuses_a_missing_chunk_with_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound, match=r"chunk .*0001\.mp4 does not exist"):
        concat_chunks(
            tmp_path / "ffmpeg-not-run", [tmp_path / "0001.mp4"], tmp_path / "out.mp4", audio=None, scratch=tmp_path
        )
    with pytest.raises(InvalidPlan, match="at least one chunk"):
        concat_chunks(tmp_path / "ffmpeg-not-run", [], tmp_path / "out.mp4", audio=None, scratch=tmp_path)


def test_settings_round_trip_through_canonical_json() -> None:
    settings = EncoderSettings(crf=20, capture_format="png")
    canonical = settings.canonical()
    assert list(canonical) == sorted(canonical)
    assert EncoderSettings.from_dict(json.loads(json.dumps(canonical))) == settings


@pytest.mark.parametrize(
    "data",
    [{"crf": "18"}, {"crf": True}, {"preset": "warp"}, {"threads": 0}, {"capture_format": "webp"}, {"gop": 5}],
)
def test_settings_refuse_bad_values(data: dict[str, object]) -> None:
    with pytest.raises(InvalidPlan):
        EncoderSettings.from_dict(data)


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_image_size_reads_the_header(kind: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (123, 45)).save(buffer, format=kind)
    assert image_size(buffer.getvalue()) == (123, 45)
    assert image_size(b"not an image") is None
    assert image_size(buffer.getvalue()[:3]) is None
