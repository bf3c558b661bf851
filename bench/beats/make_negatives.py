#!/usr/bin/env python3
"""Writes material WITHOUT a musical pulse, for the beat tracker's rejection (docs/beats.md, "Ninth round"): every
file must come back with no beats. Raw 32-bit float mono PCM at 22050 Hz (the driver's input), 30 s each (the
short speech clip excepted).

    make_negatives.py OUTDIR [--seconds 30]

- speech: espeak-ng prose (English, German, French, Spanish, Italian, Dutch; three speaking rates; looped to the
  full length, and two English sentences alone, 6.7 s), festival
  (kal diphone voice) and flite (kal, slt, awb, rms) prose when they are installed (Debian: festival,
  festvox-kallpc16k, flite); continuous prose, not counted lists (a list read at an even rate is a pulse);
- noise: white, pink, brown, blue, violet; white noise under a slow random swell (wind);
- textures: rain (heavy and light: random drops), applause (40 clappers, each at its own rate with jitter);
- clicks in silence (random times, 0.5 and 2 a second);
- drones: one sustained chord (fluidsynth organ, strings, pad; held 30 s), a sine chord with a slow vibrato, and pad
  chords changing at random times 2-6 s apart (no pulse between the changes).

Needs numpy, the ffmpeg CLI and espeak-ng; fluidsynth + fluid-soundfont-gm for the chords. Deterministic (seeded).
"""
import argparse
import os
import shutil
import struct
import subprocess
import tempfile

import numpy as np

RATE = 22050
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

PROSE = {
    "en": "The history of the harbour town goes back many centuries. Fishermen settled along the river mouth, "
          "and traders soon followed with salt, timber and wool. Over time the narrow streets filled with workshops, "
          "and the old market square became the centre of public life. Today visitors walk along the quay, "
          "look at the restored warehouses and listen to stories about storms, shipwrecks and long winters.",
    "de": "Die Geschichte der kleinen Stadt am Fluss reicht viele Jahrhunderte zurück. Zuerst lebten hier Fischer, "
          "später kamen Händler mit Salz, Holz und Wolle. Mit der Zeit füllten sich die engen Gassen mit Werkstätten, "
          "und der alte Marktplatz wurde zum Mittelpunkt des Lebens.",
    "fr": "L'histoire de ce petit port remonte à plusieurs siècles. Des pêcheurs se sont installés à l'embouchure "
          "du fleuve, puis des marchands sont arrivés avec du sel, du bois et de la laine. Aujourd'hui, les visiteurs "
          "se promènent le long du quai et écoutent des récits de tempêtes et de longs hivers.",
    "es": "La historia de este pequeño puerto se remonta a varios siglos. Los pescadores se instalaron en la "
          "desembocadura del río y pronto llegaron comerciantes con sal, madera y lana. Hoy los visitantes pasean "
          "por el muelle y escuchan historias de tormentas y largos inviernos.",
    "it": "La storia di questo piccolo porto risale a molti secoli fa. I pescatori si stabilirono alla foce del fiume "
          "e presto arrivarono mercanti con sale, legname e lana. Oggi i visitatori passeggiano lungo il molo e "
          "ascoltano racconti di tempeste e lunghi inverni.",
    "nl": "De geschiedenis van de kleine havenstad gaat vele eeuwen terug. Eerst woonden hier vissers, later kwamen "
          "handelaren met zout, hout en wol. Vandaag wandelen bezoekers langs de kade en luisteren naar verhalen over "
          "stormen en lange winters.",
}


def write(path, x, seconds, loop=True):
    n = int(seconds * RATE)
    x = np.asarray(x, dtype=np.float64)
    if loop and len(x) < n:  # loop short material (speech) to the full length
        x = np.tile(x, int(np.ceil(n / max(1, len(x)))))
    x = x[:n]
    peak = np.max(np.abs(x)) if len(x) else 0
    if peak > 0:
        x = 0.5 * x / peak
    x.astype("<f4").tofile(path)


def decode(path):
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def coloured(rng, n, exponent):
    """Noise with power spectrum ~ f^exponent (0 white, -1 pink, -2 brown, 1 blue, 2 violet)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    spectrum *= f ** (exponent / 2)
    return np.fft.irfft(spectrum, n)


def bursts(rng, n, times, length, decay, lowpass=None):
    x = np.zeros(n)
    for t in times:
        i = int(t * RATE)
        k = min(length, n - i)
        if k <= 0:
            continue
        burst = rng.standard_normal(k) * np.exp(-np.arange(k) / (decay * RATE)) * rng.uniform(0.2, 1.0)
        x[i:i + k] += burst
    if lowpass:
        spectrum = np.fft.rfft(x)
        spectrum[np.fft.rfftfreq(n, 1 / RATE) > lowpass] = 0
        x = np.fft.irfft(spectrum, n)
    return x


def midi_chords(path, chords, program):
    """A one-track Standard MIDI File: each (start s, length s, notes) held; tempo 60 BPM so a tick is 1/480 s."""
    events = []
    for start, length, notes in chords:
        for k in notes:
            events.append((int(start * 480), bytes([0x90, k, 70])))
            events.append((int((start + length) * 480), bytes([0x80, k, 0])))
    events.sort(key=lambda e: (e[0], e[1][0] == 0x90))
    body = bytearray(b"\x00\xff\x51\x03\x0f\x42\x40" + bytes([0, 0xC0, program]))
    last = 0

    def vlq(v):
        out = [v & 0x7F]
        v >>= 7
        while v:
            out.insert(0, 0x80 | (v & 0x7F))
            v >>= 7
        return bytes(out)

    for tick, data in events:
        body += vlq(tick - last) + data
        last = tick
    body += b"\x00\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(body)) + body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seconds = args.seconds
    n = int(seconds * RATE)
    rng = np.random.default_rng(9)
    tmp = tempfile.mkdtemp()
    made = []

    def put(name, x, loop=True):
        write(os.path.join(args.out, name + ".f32"), x, seconds, loop)
        made.append(name)

    # Speech.
    for lang, text in PROSE.items():
        for speed in ([130, 175, 220] if lang == "en" else [160]):
            wav = os.path.join(tmp, "s.wav")
            subprocess.run(["espeak-ng", "-v", lang, "-s", str(speed), "-w", wav, text], check=True)
            put(f"espeak-{lang}-{speed}", decode(wav))
    # ... and two sentences alone, fast, not looped (6.7 s: shorter than one window of the activation's measure).
    wav = os.path.join(tmp, "s.wav")
    subprocess.run(["espeak-ng", "-v", "en", "-s", "220", "-w", wav, PROSE["en"][:152]], check=True)
    put("espeak-en-220-short", decode(wav), loop=False)
    if shutil.which("text2wave"):
        txt = os.path.join(tmp, "t.txt")
        with open(txt, "w") as f:
            f.write(PROSE["en"])
        wav = os.path.join(tmp, "f.wav")
        subprocess.run(["text2wave", txt, "-o", wav], check=True)
        put("festival-kal", decode(wav))
    if shutil.which("flite"):
        for voice in ["kal", "slt", "awb", "rms"]:
            wav = os.path.join(tmp, "fl.wav")
            r = subprocess.run(["flite", "-voice", voice, "-t", PROSE["en"], "-o", wav], capture_output=True)
            if r.returncode == 0 and os.path.getsize(wav) > 1000:
                put(f"flite-{voice}", decode(wav))

    # Noise of several colours, and wind (white noise under a slow random swell).
    for name, exponent in [("white", 0), ("pink", -1), ("brown", -2), ("blue", 1), ("violet", 2)]:
        put(f"noise-{name}", coloured(rng, n, exponent))
    swell = np.interp(np.arange(n), np.linspace(0, n, 12), rng.uniform(0.1, 1.0, 12))
    put("wind", coloured(rng, n, -1) * swell)

    # Textures: rain (random drops), applause (many clappers, each at its own rate, jittered).
    put("rain-heavy", bursts(rng, n, np.sort(rng.uniform(0, seconds, int(150 * seconds))), 400, 0.004) + 0.05 * coloured(rng, n, -1))
    put("rain-light", bursts(rng, n, np.sort(rng.uniform(0, seconds, int(12 * seconds))), 600, 0.006, lowpass=6000))
    claps = []
    for _ in range(40):
        rate = rng.uniform(2.5, 6.0)
        t = rng.uniform(0, 1 / rate)
        while t < seconds:
            claps.append(t)
            t += rng.normal(1 / rate, 0.15 / rate)
    put("applause", bursts(rng, n, np.sort(claps), 300, 0.005))

    # Clicks in silence at random times.
    for per_second in [0.5, 2]:
        times = np.sort(rng.uniform(0, seconds, int(per_second * seconds)))
        put(f"clicks-silence-{per_second:g}", bursts(rng, n, times, 80, 0.001))

    # Drones: a sustained chord, a sine chord with slow vibrato, chords changing at random times.
    t = np.arange(n) / RATE
    vibrato = 0.003 * np.sin(2 * np.pi * 0.23 * t)
    put("drone-sine", sum(np.sin(2 * np.pi * f * (t + vibrato * 40 / f)) for f in [110, 164.8, 220, 277.2]))
    if shutil.which("fluidsynth") and os.path.exists(SOUNDFONT):
        def render(name, chords, program):
            mid = os.path.join(tmp, "c.mid")
            wav = os.path.join(tmp, "c.wav")
            midi_chords(mid, chords, program)
            subprocess.run(["fluidsynth", "-ni", "-g", "0.8", "-r", str(RATE), "-F", wav, SOUNDFONT, mid],
                           check=True, capture_output=True)
            put(name, decode(wav))
        held = [(0, seconds, [48, 55, 60, 64, 67])]
        render("drone-organ", held, 19)
        render("drone-strings", held, 48)
        render("drone-pad", held, 89)
        changes, start = [], 0.0
        progression = [[48, 55, 64], [45, 52, 60], [41, 53, 57], [43, 50, 59]]
        while start < seconds:
            length = rng.uniform(2, 6)
            changes.append((start, length, progression[len(changes) % 4]))
            start += length
        render("chords-free-pad", changes, 89)
    shutil.rmtree(tmp)
    print("\n".join(made))


if __name__ == "__main__":
    main()
