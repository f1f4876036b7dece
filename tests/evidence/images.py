"""Test photos made in memory with Pillow: no binary fixtures in the repository."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction

from PIL import Image, ImageDraw

EXIF_IFD = 0x8769
GPS_IFD = 0x8825


def _dms(value: float):
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (Fraction(degrees), Fraction(minutes), Fraction(seconds).limit_denominator(10000))


def make_exif(*, orientation=None, lat=None, lon=None, taken="2024:05:17 09:31:05",
              offset="+08:00", make="Apple", model="iPhone 13", software="17.4.1") -> Image.Exif:
    """EXIF as a phone writes it: camera, time with offset, GPS, orientation."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if software:
        exif[0x0131] = software
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif[0x0132] = taken
        sub = exif.get_ifd(EXIF_IFD)
        sub[0x9003] = taken
        if offset:
            sub[0x9011] = offset
    if lat is not None and lon is not None:
        gps = exif.get_ifd(GPS_IFD)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(lon)
    return exif


def picture(width=400, height=200, seed=0, mode="RGB") -> Image.Image:
    """A picture with structure (so hashes mean something): gradient, shapes, a marked corner."""
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(6):
        x = (seed * 37 + i * 61) % max(1, width - 40)
        y = (seed * 53 + i * 29) % max(1, height - 40)
        colour = ((seed * 80 + i * 40) % 256, (i * 90) % 256, (seed * 30 + 120) % 256)
        draw.ellipse((x, y, x + width // 5, y + height // 4), fill=colour)
    # Red block in the top-left corner tells the orientation apart.
    draw.rectangle((0, 0, width // 8, height // 8), fill=(255, 0, 0))
    return img.convert(mode) if mode != "RGB" else img


def encode(img: Image.Image, fmt="JPEG", **params) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def jpeg(width=400, height=200, *, seed=0, exif: Image.Exif | None = None, quality=90,
         **params) -> bytes:
    """A JPEG, optionally with EXIF."""
    if exif is not None:
        params["exif"] = exif.tobytes()
    return encode(picture(width, height, seed), "JPEG", quality=quality, **params)


def png_bomb_header(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's calling card)."""
    def chunk(ctype: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + ctype + body
                + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def heic(width=400, height=200, *, seed=0, exif: Image.Exif | None = None) -> bytes | None:
    """A HEIC made with pillow-heif, or None when this build cannot encode HEVC."""
    try:
        import pillow_heif
    except ImportError:
        return None
    if not pillow_heif.libheif_info().get("HEIF"):
        return None
    params = {"quality": 80}
    if exif is not None:
        params["exif"] = exif.tobytes()
    try:
        return encode(picture(width, height, seed), "HEIF", **params)
    except (OSError, KeyError, ValueError):
        return None
