"""Synthesize chime.wav, the lobby display's call chime: a soft two-tone "ding-dong".

Run `python assets/sounds/make_chime.py` to rebuild it; only the standard library is used.
Each tone is a bell-like sum of a few partials with a gentle attack and an exponential decay.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
LENGTH = 1.8  # seconds
PEAK = 0.6  # of full scale: clear, never harsh
ATTACK = 0.008
FADE_OUT = 0.08
# (start in seconds, fundamental in Hz): E5, then C5
TONES = ((0.0, 659.25), (0.42, 523.25))
# (frequency ratio, relative amplitude, decay time constant in seconds)
PARTIALS = ((1.0, 1.0, 0.55), (2.0, 0.35, 0.3), (3.0, 0.12, 0.18), (4.2, 0.05, 0.1))
OUTPUT = Path(__file__).with_name("chime.wav")


def tone(t: float, frequency: float) -> float:
    """One struck tone, `t` seconds after the strike."""
    if t < 0:
        return 0.0
    envelope = min(1.0, t / ATTACK)
    return envelope * sum(amplitude * math.exp(-t / decay) * math.sin(2 * math.pi * ratio *
                                                                      frequency * t)
                          for ratio, amplitude, decay in PARTIALS)


def samples() -> list[float]:
    count = int(RATE * LENGTH)
    raw = [sum(tone(i / RATE - start, freq) for start, freq in TONES) for i in range(count)]
    scale = PEAK / max(abs(s) for s in raw)
    fade = int(RATE * FADE_OUT)
    return [s * scale * min(1.0, (count - i) / fade) for i, s in enumerate(raw)]


def write(path: Path = OUTPUT) -> Path:
    frames = b"".join(struct.pack("<h", round(s * 32767)) for s in samples())
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return path


if __name__ == "__main__":
    print(write())
