#!/usr/bin/env python3
"""Writes test tracks with KNOWN beat times: Standard MIDI Files (a tiny writer below, no dependency) rendered to WAV
with fluidsynth + the General MIDI SoundFont, plus a `.beats` file (one beat time in seconds a line) and a `.json`
with the track's description.

    make_tracks.py OUTDIR [--only NAME ...] [--soundfont PATH]

Every quarter note is a beat. Tempo maps may change; beat times follow the tempo map exactly.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys

TICKS = 480  # ticks per quarter note

# name, description, bars, tempo map (list of (beat_index, bpm) with linear ramps when 'ramp'), drums, intro bars
TRACKS = [
    # Steady tempos across 70-180 BPM, with drums.
    *[dict(name=f"drums-{bpm:03d}", tempo=[(0, bpm)], drums=True, bars=bars, kind="steady")
      for bpm, bars in [(70, 12), (85, 14), (100, 16), (120, 18), (140, 20), (160, 24), (180, 26)]],
    # Steady tempos without drums (piano chords, bass, melody).
    *[dict(name=f"piano-{bpm:03d}", tempo=[(0, bpm)], drums=False, bars=bars, kind="steady")
      for bpm, bars in [(70, 12), (95, 14), (125, 18), (150, 20), (180, 26)]],
    # A quiet piano intro, then the band.
    dict(name="intro-110", tempo=[(0, 110)], drums=True, bars=18, intro_bars=4, kind="intro"),
    # Tempo changes: a ramp and a step.
    dict(name="ramp-100-130", tempo=[(0, 100), (32, 100), ("ramp", 64, 130)], drums=True, bars=24, kind="change"),
    dict(name="step-90-120", tempo=[(0, 90), (32, 120)], drums=True, bars=22, kind="change"),
]

# Robustness: music starting 1.37 s in (reference beats from there), and the band under loud noise.
TRACKS += [
    dict(name="late-start-132", tempo=[(0, 132)], drums=True, bars=18, kind="steady", offset=1.37),
    dict(name="noisy-115", tempo=[(0, 115)], drums=True, bars=18, kind="steady", noise_db=-12),
    dict(name="noisy-piano-88", tempo=[(0, 88)], drums=False, bars=14, kind="steady", noise_db=-18),
]

# Harder grooves: swing with humanised timing, off-beat chords, a waltz.
TRACKS += [
    dict(name="swing-108", tempo=[(0, 108)], drums=True, bars=16, kind="steady", style="swing"),
    dict(name="offbeat-84", tempo=[(0, 84)], drums=False, bars=14, kind="steady", style="offbeat"),
    dict(name="offbeat-dr-150", tempo=[(0, 150)], drums=True, bars=20, kind="steady", style="offbeat"),
    dict(name="waltz-150", tempo=[(0, 150)], drums=False, bars=24, kind="steady", style="waltz"),
    dict(name="edm-124", tempo=[(0, 124)], drums=True, bars=18, kind="steady", style="edm"),
    dict(name="funk-100", tempo=[(0, 100)], drums=True, bars=16, kind="steady", style="funk"),
]

LONG_TRACK = dict(name="long-128", tempo=[(0, 128)], drums=True, bars=96, kind="speed")  # 3 minutes

CHORDS = [(60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60)]  # C, G, Am, F
SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def var_len(value):
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def smf(events):
    """events: list of (tick, bytes). Returns a format-0 Standard MIDI File."""
    events = sorted(events, key=lambda e: (e[0], e[2] if len(e) > 2 else 0))
    data = bytearray()
    last = 0
    for e in events:
        tick, msg = e[0], e[1]
        data += var_len(tick - last) + msg
        last = tick
    data += var_len(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(data)) + bytes(data)


def tempo_per_beat(tempo_map, beats):
    """BPM of each beat from a tempo map [(beat, bpm) | ("ramp", beat, bpm)]: steps, or linear ramps to a point."""
    points = [(i[1], i[2], True) if i[0] == "ramp" else (i[0], i[1], False) for i in tempo_map]
    bpms = []
    for b in range(beats):
        k = max(i for i, p in enumerate(points) if p[0] <= b)
        bpm = points[k][1]
        if k + 1 < len(points) and points[k + 1][2]:
            (b0, v0, _), (b1, v1, _) = points[k], points[k + 1]
            bpm = v0 + (v1 - v0) * (b - b0) / (b1 - b0)
        bpms.append(bpm)
    return bpms


def build(track, seed=7):
    """Styles: "band" (default: chords on every beat, bass, drums with eighth hats), "swing" (triplet-swung hats and
    melody, humanised timing and velocities), "offbeat" (chords on the off-beats, bass on 1 and 3: the classic
    off-beat trap), "waltz" (3/4 oom-pah-pah), "edm" (four-on-the-floor, off-beat bass, sixteenth hats), "funk" (syncopated
    sixteenth bass, ghost notes, humanised)."""
    rng = random.Random(seed + sum(map(ord, track["name"])))
    style = track.get("style", "band")
    beats_per_bar = 3 if style == "waltz" else 4
    bars = track["bars"]
    n_beats = bars * beats_per_bar
    bpms = tempo_per_beat(track["tempo"], n_beats)
    intro = track.get("intro_bars", 0)
    ev = []

    def note(tick, channel, key, velocity, length, human=False):
        if human or style == "swing":
            tick = max(0, tick + int(rng.gauss(0, 10) * TICKS * bpms[0] / 60000))  # ~10 ms timing spread
            velocity = max(1, min(127, velocity + rng.randint(-12, 12)))
        ev.append((tick, bytes([0x90 | channel, key, velocity]), 1))
        ev.append((tick + length, bytes([0x80 | channel, key, 0]), 0))

    # Programs: piano (ch 0), bass (ch 1), melody (ch 2: vibraphone).
    ev.append((0, bytes([0xC0, 0]), 0))
    ev.append((0, bytes([0xC1, 33]), 0))
    ev.append((0, bytes([0xC2, 11]), 0))
    times = []
    t = 0.0
    for b in range(n_beats):
        tick = b * TICKS
        if b == 0 or bpms[b] != bpms[b - 1]:
            us = int(round(60_000_000 / bpms[b]))
            ev.append((tick, b"\xff\x51\x03" + us.to_bytes(3, "big"), 0))
        times.append(t + track.get("offset", 0.0))
        t += 60.0 / bpms[b]
        bar, beat = divmod(b, beats_per_bar)
        chord = CHORDS[bar % len(CHORDS)]
        root = chord[0] - 24
        quiet = bar < intro
        if style == "waltz":
            if beat == 0:
                note(tick, 1, root, 100, TICKS * 9 // 10)
            else:
                for key in chord:
                    note(tick, 0, key, 62, TICKS * 6 // 10)
            if rng.random() < 0.5:
                note(tick, 2, rng.choice(SCALE) + 12, 45, TICKS - 20)
            continue
        if style == "edm":
            # Four-on-the-floor kick, clap on 2 and 4, open hat on every "and", sixteenth closed hats, off-beat bass.
            note(tick, 9, 36, 120, TICKS // 4)
            if beat % 2 == 1:
                note(tick, 9, 39, 100, TICKS // 4)
            note(tick + TICKS // 2, 9, 46, 80, TICKS // 4)
            for k in range(4):
                note(tick + k * TICKS // 4, 9, 42, 60 if k % 2 == 0 else 40, TICKS // 8)
            note(tick + TICKS // 2, 1, root + 12, 100, TICKS * 4 // 10)
            if beat == 0:
                for key in chord:
                    note(tick, 0, key + 12, 55, TICKS * 4 - 40)  # a sustained pad-like chord
            continue
        if style == "funk":
            # Syncopated sixteenth bass and ghost-note snare over a kick on 1 and the "a" of 2.
            sixteenth = TICKS // 4
            pattern = [(0, 110), (3, 80), (6, 90), (10, 100), (11, 70), (14, 85)]
            if beat % 2 == 0:
                for pos, vel in pattern:
                    note(tick + pos * sixteenth, 1, root + (0 if pos < 8 else 7), vel, sixteenth - 10, human=True)
                note(tick, 9, 36, 115, sixteenth)
                note(tick + 7 * sixteenth, 9, 36, 95, sixteenth)
            else:
                note(tick, 9, 38, 110, sixteenth)
            for k in range(4):
                note(tick + k * sixteenth, 9, 42, 65 if k == 0 else 40, sixteenth // 2, human=True)
                if k in (1, 3) and rng.random() < 0.4:
                    note(tick + k * sixteenth, 9, 38, 30, sixteenth // 2, human=True)  # ghost note
            for key in chord:
                note(tick + (sixteenth if beat % 2 else 3 * sixteenth), 0, key, 60, sixteenth, human=True)
            continue
        if style == "offbeat":
            # Bass on 1 and 3 (and a soft 2 and 4), chords on every "and".
            note(tick, 1, root if beat % 2 == 0 else root + 7, 100 if beat % 2 == 0 else 70, TICKS * 7 // 10)
            for key in chord:
                note(tick + TICKS // 2, 0, key, 80, TICKS * 4 // 10)
            if track["drums"]:
                note(tick, 9, 36 if beat % 2 == 0 else 38, 100, TICKS // 4)
            continue
        # Piano chord on every beat, accented on the first.
        vel = (34 if beat == 0 else 28) if quiet else (88 if beat == 0 else 72)
        for key in chord:
            note(tick, 0, key, vel, TICKS * 9 // 10)
        if quiet:
            continue
        # Bass on beats 1 and 3, a passing note on 2 and 4.
        note(tick, 1, root if beat % 2 == 0 else root + 7, 95 if beat % 2 == 0 else 75, TICKS * 8 // 10)
        off = TICKS * 2 // 3 if style == "swing" else TICKS // 2
        # Melody: soft (swung) eighths on some beats.
        if rng.random() < 0.6:
            note(tick, 2, rng.choice(SCALE) + 12, 50, off - 20)
            note(tick + off, 2, rng.choice(SCALE) + 12, 40, TICKS - off - 20)
        if track["drums"]:
            if beat % 2 == 0:
                note(tick, 9, 36, 112, TICKS // 4)  # kick
            else:
                note(tick, 9, 38, 100, TICKS // 4)  # snare
            note(tick, 9, 42, 70, TICKS // 8)  # closed hi-hat on the beat
            note(tick + off, 9, 42, 50, TICKS // 8)  # and on the (swung) off-beat
    return smf(ev), times, bpms


def render(midi_path, wav_path, soundfont, rate=44100):
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(rate), "-F", wav_path, soundfont, midi_path],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def postprocess(dry, wet, track):
    """Delays the music (late start) and/or mixes pink noise under it, with the ffmpeg CLI."""
    chain = []
    if track.get("offset"):
        chain.append(f"adelay={int(track['offset'] * 1000)}:all=1")
    inputs = ["-i", dry]
    if track.get("noise_db"):
        amplitude = 10 ** (track["noise_db"] / 20)
        inputs += ["-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude={amplitude:.4f}:seed=3:sample_rate=44100"]
        graph = f"[0]{','.join(chain) or 'anull'}[m];[1]aformat=channel_layouts=stereo[n];[m][n]amix=inputs=2:duration=first:normalize=0"
        args = inputs + ["-filter_complex", graph]
    else:
        args = inputs + ["-af", ",".join(chain)]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, wet], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--only", nargs="*", help="track names to make")
    parser.add_argument("--long", action="store_true", help="also make the 3-minute speed track")
    parser.add_argument("--soundfont", default="/usr/share/sounds/sf2/FluidR3_GM.sf2")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    tracks = TRACKS + ([LONG_TRACK] if args.long else [])
    if args.only:
        tracks = [t for t in tracks if t["name"] in args.only]
    for track in tracks:
        base = os.path.join(args.outdir, track["name"])
        midi, times, bpms = build(track)
        with open(base + ".mid", "wb") as f:
            f.write(midi)
        with open(base + ".beats", "w") as f:
            f.write("".join(f"{t:.6f}\n" for t in times))
        meta = dict(name=track["name"], kind=track["kind"], drums=track["drums"],
                    tempo=bpms[0] if track["kind"] != "change" else None,
                    tempos=sorted(set(round(b, 3) for b in bpms)), beats=len(times))
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        if not os.path.exists(base + ".wav") or os.path.getmtime(base + ".wav") < os.path.getmtime(__file__):
            post = track.get("offset") or track.get("noise_db")
            render(base + ".mid", base + ("-dry.wav" if post else ".wav"), args.soundfont)
            if post:
                postprocess(base + "-dry.wav", base + ".wav", track)
                os.remove(base + "-dry.wav")
        if track["kind"] == "speed":
            # The same track as MP3: decoding cost counts in the 3-minute figure too.
            mp3 = base + "-mp3"
            for ext in (".beats", ".json"):
                with open(base + ext) as src, open(mp3 + ext, "w") as dst:
                    dst.write(src.read().replace(track["name"], track["name"] + "-mp3"))
            if not os.path.exists(mp3 + ".mp3") or os.path.getmtime(mp3 + ".mp3") < os.path.getmtime(base + ".wav"):
                subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", base + ".wav", "-b:a", "192k", mp3 + ".mp3"],
                               check=True)
        print(base + ".wav")


if __name__ == "__main__":
    sys.exit(main())
