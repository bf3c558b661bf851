#!/usr/bin/env python3
"""Writes rendc's hostile-input corpus into a directory (the tests run it at test time; nothing is committed but
this script).

Usage: make_corpus.py OUTPUT_DIR VICTIM_FILE

Base files are made with Debian's ffmpeg CLI (a tool here, never the renderer), then mutated with a fixed seed:
truncated, bytes flipped, blocks zeroed, headers damaged. Hand-built attack files are added:
  - hls-in-id3*.mp3: an ID3 tag followed by an HLS playlist whose file:// URL points at VICTIM_FILE (the
    cross-tenant read of issue 10);
  - webp-dimension-lie*.webp: a VP8X canvas of 100x100 over a VP8/VP8L frame header of 9000x9000;
  - nan.wav / inf.wav: float PCM holding NaN or infinite samples;
  - png-bomb.png, gif-frame-lie.gif, jpeg-second-frame.jpg: sizes far over the pixel limit in a second header;
  - ffconcat.mp3, text.jpg: a concat script and text with media names.
Every file name starts with its kind (image-, audio-, video-) so a test knows what it was uploaded as.
"""
import os
import random
import struct
import subprocess
import sys
import zlib


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def chunk(tag, data):
    return tag + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def riff_webp(chunks):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def vp8x(width, height, flags=0):
    w, h = width - 1, height - 1
    return chunk(b"VP8X", bytes([flags, 0, 0, 0]) + w.to_bytes(3, "little") + h.to_bytes(3, "little"))


def vp8_frame(width, height):
    # A key frame tag (show frame, first partition size 64), the start code, then 14-bit sizes; the rest is noise.
    tag = (0 | (0 << 1) | (1 << 4) | (64 << 5)).to_bytes(3, "little")
    return chunk(b"VP8 ", tag + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(range(64)) * 2)


def vp8l_frame(width, height):
    bits = (width - 1) | ((height - 1) << 14)
    return chunk(b"VP8L", b"\x2f" + struct.pack("<I", bits) + bytes(64))


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def id3_tag(text=b"rendc corpus", padding=0):
    frame = b"TIT2" + struct.pack(">I", len(text) + 1) + b"\0\0" + b"\3" + text
    body = frame + bytes(padding)
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + body


def wav_float(samples):
    data = b"".join(struct.pack("<f", s) for s in samples)
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mutations(name, data, rng):
    """(suffix, bytes) variants of one valid file."""
    out = [("half", data[: len(data) // 2]), ("tenth", data[: max(1, len(data) // 10)]), ("header-only", data[:64])]
    flipped = bytearray(data)
    for _ in range(8):
        i = rng.randrange(len(data) // 4, len(data))
        flipped[i] ^= 1 << rng.randrange(8)
    out.append(("flipped", bytes(flipped)))
    zeroed = bytearray(data)
    start = len(data) // 3
    zeroed[start : start + 256] = bytes(min(256, len(data) - start))
    out.append(("zeroed", bytes(zeroed)))
    head = bytearray(data)
    for i in range(4, min(40, len(data))):
        if rng.random() < 0.3:
            head[i] = rng.randrange(256)
    out.append(("header-noise", bytes(head)))
    noise = bytearray(data[:16]) + bytearray(rng.randrange(256) for _ in range(len(data) - 16))
    out.append(("noise-after-magic", bytes(noise)))
    return out


def main():
    out_dir, victim = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(out_dir, exist_ok=True)
    base_dir = os.path.join(out_dir, ".base")
    os.makedirs(base_dir, exist_ok=True)
    src = ["-f", "lavfi", "-i", "testsrc2=s=96x64:d=1:r=10"]
    tone = ["-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=22050"]
    bases = {
        "image-base.jpg": lambda p: ffmpeg(*src, "-frames:v", "1", p),
        "image-base.png": lambda p: ffmpeg(*src, "-frames:v", "1", p),
        "image-base.webp": lambda p: ffmpeg(*src, "-frames:v", "1", "-c:v", "libwebp", p),
        "audio-base.mp3": lambda p: ffmpeg(*tone, "-c:a", "libmp3lame", "-b:a", "64k", p),
        "audio-base.ogg": lambda p: ffmpeg(*tone, "-c:a", "libvorbis", p),
        "audio-base.wav": lambda p: ffmpeg(*tone, "-c:a", "pcm_s16le", p),
        "video-base.mp4": lambda p: ffmpeg(*src, *tone, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", p),
    }
    rng = random.Random(20261129)
    for name, make in bases.items():
        path = os.path.join(base_dir, name)
        make(path)
        data = open(path, "rb").read()
        stem, ext = os.path.splitext(name)
        kind = stem.split("-")[0]
        for suffix, variant in mutations(name, data, rng):
            with open(os.path.join(out_dir, f"{kind}-{ext[1:]}-{suffix}{ext}"), "wb") as f:
                f.write(variant)

    playlist = (b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n"
                + b"file://" + victim.encode() + b"\n#EXT-X-ENDLIST\n")
    specials = {
        "audio-hls-in-id3.mp3": id3_tag() + playlist,
        "audio-hls-in-id3-padded.mp3": id3_tag(padding=512) + playlist,
        "audio-hls-no-tag.mp3": playlist,
        "audio-ffconcat.mp3": b"ffconcat version 1.0\nfile '" + victim.encode() + b"'\n",
        "audio-nan.wav": wav_float([0.1 * ((i % 40) - 20) / 20 for i in range(4000)] + [float("nan")] + [0.0] * 3999),
        "audio-inf.wav": wav_float([0.0] * 2000 + [float("inf"), float("-inf")] + [0.25] * 5998),
        "audio-id3-only.mp3": id3_tag(padding=64),
        "image-webp-dimension-lie.webp": riff_webp([vp8x(100, 100), vp8_frame(9000, 9000)]),
        "image-webp-dimension-lie-lossless.webp": riff_webp([vp8x(100, 100), vp8l_frame(9000, 9000)]),
        "image-png-bomb.png": b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 6, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(bytes(4096))) + png_chunk(b"IEND", b""),
        "image-gif-frame-lie.gif": b"GIF89a" + struct.pack("<HH", 10, 10) + b"\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHH", 0, 0, 9000, 9000) + b"\x00" + b"\x02\x02\x4c\x01\x00" + b"\x3b",
        "image-text.jpg": b"<?php system($_GET['c']); ?>\n",
    }
    jpeg = open(os.path.join(base_dir, "image-base.jpg"), "rb").read()
    sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 9000, 9000) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    specials["image-jpeg-second-frame.jpg"] = jpeg[:-2] + sof + b"\xff\xd9"
    for name, data in specials.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
