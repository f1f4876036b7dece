"""Photo intake pipeline: decide the type, refuse hostile files, orient, render, hash, read EXIF.

Pure functions over bytes: no Flask and no database, so the pipeline is tested and benchmarked on
its own. The caller stores the original bytes as they came (they are the evidence and their
SHA-256 is what anyone can check) and serves only the renditions produced here, which never carry
metadata: a mystery shopper's phone, position or name must not leak through a photo.

Speed matters because inspectors upload 12-megapixel photos from phones: JPEGs are decoded in
Pillow's draft mode (libjpeg DCT scaling), so a 4032×3024 photo is decoded at 2016×1512 for the
1600 px display rendition; the thumbnail and the perceptual hash are derived from the display
rendition, and orientation is applied to the small image, never to the full-size one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import re
import struct
from datetime import datetime

from PIL import Image, ImageFile

from ..messages import Message

try:  # HEIC/HEIF (iPhones) is decoded through libheif; without it HEIC is refused as unsupported.
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False)
    HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency in setup.cfg
    HEIF_AVAILABLE = False

try:
    from PIL import ImageCms

    _SRGB = ImageCms.createProfile("sRGB")
except (ImportError, OSError):  # pragma: no cover - Pillow built without littlecms
    ImageCms = None
    _SRGB = None


__all__ = [
    "ImageRejected",
    "Limits",
    "PhotoFacts",
    "ProcessedPhoto",
    "CONTENT_TYPES",
    "sniff_type",
    "check_structure",
    "read_facts",
    "process_photo",
    "dhash_image",
    "hamming",
    "haversine_m",
]

#: Content-Type of the stored original, by sniffed kind.
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
}

#: Which Pillow format name a sniffed kind must open as (the sniff and the decoder must agree).
_PIL_FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "webp": {"WEBP"},
                "heic": {"HEIF"}, "heif": {"HEIF"}}


class ImageRejected(Exception):
    """A file refused at intake.

    ``code`` is a stable snake_case string for clients, ``message`` the text to show the user (a
    :class:`~inspect_app.messages.Message`, said in the user's language) and ``status`` the HTTP
    status to answer with.
    """

    def __init__(self, code: str, message: Message, status: int = 422):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self):
        return f"ImageRejected({self.code!r}, status={self.status})"


def _unsupported():
    return ImageRejected("unsupported_type",
                         Message("不支持的文件类型：仅接受 JPEG、PNG、WebP、HEIC 照片"), 415)


def _corrupt():
    return ImageRejected("corrupt_image", Message("照片文件已损坏或不完整，请重新拍摄或上传"), 422)


def _polyglot():
    return ImageRejected("polyglot_file", Message("照片文件中夹带了其他类型的内容，已拒收"), 422)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Intake limits; the defaults fit phone photos with room to spare."""

    #: Refused before decoding above this many pixels (decompression bombs).
    max_pixels: int = 50_000_000
    #: Refused before decoding when either side is longer than this.
    max_side: int = 12_000
    #: Long side of the display rendition.
    display_side: int = 1600
    #: Long side of the thumbnail.
    thumb_side: int = 320
    display_quality: int = 82
    thumb_quality: int = 75


@dataclasses.dataclass
class PhotoFacts:
    """What the original's metadata says; GPS is private (service managers only)."""

    exif_present: bool = False
    #: Camera-local capture time (naive), from DateTimeOriginal, else DateTime.
    captured_at: datetime | None = None
    #: UTC offset of ``captured_at`` as written by the camera ("+08:00"), when it wrote one.
    captured_offset: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    software: str | None = None
    #: EXIF orientation of the original (1–8), before we applied it.
    orientation: int = 1

    @property
    def has_camera_metadata(self) -> bool:
        """Whether a camera identified itself (screenshots and forwarded images usually do not)."""
        return bool(self.camera_make or self.camera_model)

    def as_dict(self) -> dict:
        """Plain dict, ``captured_at`` as an ISO string (for JSON and database columns)."""
        data = dataclasses.asdict(self)
        if self.captured_at is not None:
            data["captured_at"] = self.captured_at.isoformat()
        return data


@dataclasses.dataclass
class ProcessedPhoto:
    """Result of :func:`process_photo`: renditions, hashes and facts of one accepted photo."""

    kind: str
    content_type: str
    #: Hex SHA-256 of the original bytes, exactly as uploaded.
    sha256: str
    #: 64-bit difference hash (16 hex digits) of the oriented picture.
    dhash: str
    #: Oriented dimensions of the original.
    width: int
    height: int
    #: JPEG, long side ≤ Limits.display_side, no metadata.
    display: bytes
    #: JPEG, long side ≤ Limits.thumb_side, no metadata.
    thumbnail: bytes
    facts: PhotoFacts
    size: int = 0


# --------------------------------------------------------------------------------------------
# Type sniffing and structural checks (bytes only, nothing decoded)
# --------------------------------------------------------------------------------------------

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}

#: Markup or script that a browser or another interpreter would act on; never in a photo.
_ACTIVE_CONTENT = re.compile(
    rb"<(?:script|html|svg|iframe|body|object|embed|!doctype|\?php)\b|javascript:",
    re.IGNORECASE,
)
#: The same, for text already lower-cased (much faster on large spans than IGNORECASE).
_ACTIVE_CONTENT_LOWER = re.compile(_ACTIVE_CONTENT.pattern)
#: Signatures of other formats that must not hide after (or inside) an image.
_FOREIGN_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"PK\x05\x06", b"PK\x01\x02", b"Rar!\x1a\x07",
                       b"7z\xbc\xaf\x27\x1c", b"\x7fELF", b"<?xml")
_FOREIGN_AT_START = (b"MZ", b"#!", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\xca\xfe\xba\xbe")
#: Trailing bytes tolerated after an image's logical end (some encoders pad).
_TRAILER_TOLERANCE = 64
#: Any JPEG marker that can end entropy-coded data (not a stuffed 0xFF00 or a restart marker).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def sniff_type(data: bytes) -> str:
    """Return the kind ("jpeg", "png", "webp", "heic", "heif") from magic bytes only, else refuse.

    The file name and the declared Content-Type are never consulted: they are whatever the
    client says. Only the leading magic decides; the structural checks come after.
    """
    if not data:
        raise ImageRejected("empty_file", Message("文件为空：请重新选择照片"), 400)
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and HEIF_AVAILABLE:
        box_size = struct.unpack(">I", data[:4])[0]
        major = data[8:12]
        compatible = {data[i:i + 4] for i in range(16, min(box_size, 64, len(data)) - 3, 4)}
        if major in _HEIC_BRANDS or compatible & _HEIC_BRANDS:
            return "heic"
        if major in _HEIF_BRANDS:
            return "heif"
    raise _unsupported()


def _jpeg_end(data: bytes, start: int, spans: list) -> int:
    """Offset just past the EOI of the JPEG at ``start``; refuse if there is none.

    Appends to ``spans`` the APPn and COM segments: the only places where text can hide.
    """
    pos = start + 2
    n = len(data)
    while True:
        if pos + 2 > n or data[pos] != 0xFF:
            raise _corrupt()
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > n:
            raise _corrupt()
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2:
            raise _corrupt()
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            spans.append((pos, pos + 2 + length))
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip entropy-coded data to the next real marker
            m = _JPEG_MARKER.search(data, pos)
            if m is None:
                raise _corrupt()
            pos = m.start()


def _png_end(data: bytes, spans: list) -> int:
    pos = 8
    n = len(data)
    while pos + 12 <= n:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if ctype != b"IDAT":
            spans.append((pos, pos + 12 + length))
        pos += 12 + length
        if ctype == b"IEND":
            if pos > n:
                break
            return pos
    raise _corrupt()


def _riff_end(data: bytes, spans: list) -> int:
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size
    if end > len(data):
        raise _corrupt()
    pos = 12
    while pos + 8 <= end:
        fourcc, length = struct.unpack("<4sI", data[pos:pos + 8])
        if fourcc not in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF"):
            spans.append((pos, pos + 8 + length))
        pos += 8 + length + (length & 1)
    return min(end + (size & 1), len(data))


def _isobmff_end(data: bytes, spans: list) -> int:
    # Exif and XMP of a HEIC usually live inside 'mdat', so the whole file is scanned.
    spans.append((0, len(data)))
    pos = 0
    n = len(data)
    while pos + 8 <= n:
        size, btype = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            if pos + 16 > n:
                raise _corrupt()
            (size,) = struct.unpack(">Q", data[pos + 8:pos + 16])
        elif size == 0:
            return n
        if size < 8:
            raise _corrupt()
        pos += size
    if pos > n:
        raise _corrupt()
    return pos


def _check_trailer(trailer: bytes) -> None:
    """Refuse what follows an image's logical end when it is another format in disguise."""
    # A foreign signature is refused however short the trailer: "%PDF-" plus a few bytes is
    # already a file some readers open. The tolerance only covers featureless padding.
    if any(s in trailer for s in _FOREIGN_SIGNATURES):
        raise _polyglot()
    if len(trailer) <= _TRAILER_TOLERANCE or not trailer.strip(b"\x00\r\n\t "):
        return
    if trailer.startswith(_FOREIGN_AT_START):
        raise _polyglot()


def check_structure(data: bytes, kind: str) -> None:
    """Refuse truncated files and polyglots (a photo that is also a PDF, a ZIP, HTML, …).

    Costs a scan of the bytes, no decoding. A JPEG may legitimately be followed by more JPEGs
    (MPF depth maps and gain maps from phones); any other trailer beyond a few bytes of padding
    is refused when it carries the signature of another format. ZIP readers look for their
    directory at the end of the file and PDF readers for a header in the first kilobyte, so those
    are checked wherever the image data ends.
    """
    spans: list[tuple[int, int]] = []
    if kind == "jpeg":
        end = _jpeg_end(data, 0, spans)
        # MPF/gain-map images appended by phones: walk over them, refuse the JPEG-free remainder.
        while data[end:end + 3] == b"\xff\xd8\xff":
            end = _jpeg_end(data, end, spans)
    elif kind == "png":
        end = _png_end(data, spans)
    elif kind == "webp":
        end = _riff_end(data, spans)
    else:
        end = _isobmff_end(data, spans)
    _check_trailer(data[end:])
    spans.append((end, len(data)))
    if b"%PDF-" in data[:1024] or b"PK\x05\x06" in data[-65_600:]:
        raise _polyglot()
    # Markup can only hide in metadata segments and trailers; pixel data is never scanned
    # (it is large, and random bytes would only produce false alarms).
    for lo, hi in spans:
        chunk = data[lo:hi]
        if hi - lo > 65_536:
            found = _ACTIVE_CONTENT_LOWER.search(chunk.lower())
        else:
            found = _ACTIVE_CONTENT.search(chunk)
        if found:
            raise _polyglot()


# --------------------------------------------------------------------------------------------
# Opening, limits, EXIF facts
# --------------------------------------------------------------------------------------------


def _open_header(data: bytes, kind: str, limits: Limits) -> Image.Image:
    """Open lazily (header only) and enforce pixel and side limits before anything is decoded.

    Pillow's own bomb check (``MAX_IMAGE_PIXELS``, a process-wide setting) runs inside
    ``Image.open``; its error, and its warning where warnings are errors, become a refusal too,
    but our limit below is the one that counts. ``warnings.catch_warnings`` is deliberately not
    used: it mutates process-wide state and is not thread-safe under a threaded server.
    """
    try:
        img = Image.open(io.BytesIO(data), formats=_open_formats(kind))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(limits) from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise _corrupt() from exc
    if img.format not in _PIL_FORMATS[kind]:
        raise _unsupported()
    width, height = img.size
    if width <= 0 or height <= 0:
        raise _corrupt()
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits)
    if max(width, height) > limits.max_side:
        raise ImageRejected(
            "too_large_dimensions",
            Message("照片尺寸过大：长边不能超过 %(max_side)s 像素", max_side=limits.max_side),
            422,
        )
    return img


def _open_formats(kind: str):
    return sorted(_PIL_FORMATS[kind] - {"MPO"}) if kind != "jpeg" else ["JPEG", "MPO"]


def _too_many_pixels(limits: Limits) -> ImageRejected:
    return ImageRejected(
        "too_many_pixels",
        Message("照片像素过多（上限 %(megapixels)s 百万像素），已拒收",
                megapixels=limits.max_pixels // 1_000_000),
        422,
    )


def _verify(data: bytes, kind: str) -> None:
    """Pillow's structural verify on a separate open (checks PNG chunk CRCs; cheap elsewhere)."""
    try:
        with Image.open(io.BytesIO(data), formats=_open_formats(kind)) as probe:
            probe.verify()
    except Exception as exc:  # noqa: BLE001 - any failure to verify means a broken file
        raise _corrupt() from exc


_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).replace("\x00", "").strip()
    return value[:100] or None  # the width of the camera columns: a huge EXIF tag must not
    # make the database refuse the row


def _parse_exif_time(value) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
    return None


def _gps_coordinate(value, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result):
        return None
    if _text(ref) in ("S", "W"):
        result = -result
    return result


def read_facts(img: Image.Image) -> PhotoFacts:
    """Capture time, GPS, camera and orientation from the image's EXIF (header only, no decode)."""
    facts = PhotoFacts()
    try:
        exif = img.getexif()
    except Exception:  # noqa: BLE001 - malformed EXIF counts as absent; the photo may be fine
        return facts
    original_orientation = img.info.get("original_orientation")  # pillow-heif already applied it
    if not exif and original_orientation is None:
        return facts
    facts.exif_present = bool(exif) or bool(img.info.get("exif"))
    orientation = original_orientation if original_orientation is not None else exif.get(0x0112, 1)
    facts.orientation = orientation if orientation in range(1, 9) else 1
    facts.camera_make = _text(exif.get(0x010F))
    facts.camera_model = _text(exif.get(0x0110))
    facts.software = _text(exif.get(0x0131))
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001
        sub = {}
    facts.captured_at = _parse_exif_time(sub.get(0x9003)) or _parse_exif_time(exif.get(0x0132))
    offset = _text(sub.get(0x9011) if sub.get(0x9003) else sub.get(0x9010))
    if offset and re.fullmatch(r"[+-]\d\d:\d\d", offset):
        facts.captured_offset = offset
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # noqa: BLE001
        gps = {}
    if gps:
        lat = _gps_coordinate(gps.get(2), gps.get(1))
        lon = _gps_coordinate(gps.get(4), gps.get(3))
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
            facts.gps_lat, facts.gps_lon = lat, lon
    return facts


# --------------------------------------------------------------------------------------------
# Renditions and hashes
# --------------------------------------------------------------------------------------------

#: EXIF orientation → transpose applied to the decoded pixels (ImageOps.exif_transpose's table).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """Largest size with long side ≤ ``side`` keeping the aspect ratio (never upscales)."""
    w, h = size
    if max(w, h) <= side:
        return w, h
    if w >= h:
        return side, max(1, round(h * side / w))
    return max(1, round(w * side / h)), side


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB on a white background, whatever the source mode (palette, alpha, 16-bit, CMYK…)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB when the original carried another profile, so colours survive stripping."""
    if not icc or ImageCms is None:
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return img
        return ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img


def _encode_jpeg(img: Image.Image, quality: int) -> bytes:
    """Baseline JPEG with nothing but pixels: no EXIF, XMP, ICC profile or comment."""
    img.info = {}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, subsampling="4:2:0", optimize=False)
    return out.getvalue()


def dhash_image(img: Image.Image) -> str:
    """64-bit difference hash of a picture as 16 hex digits.

    Grey 9×8, then one bit per horizontally adjacent pair (left brighter than right). Survives
    re-encoding, resizing and mild edits, which is what reuse of an old photo looks like.
    """
    small = img.convert("L").resize((9, 8), Image.Resampling.BOX if min(img.size) >= 64
                                     else Image.Resampling.BILINEAR)
    px = small.tobytes()
    bits = 0
    for row in range(8):
        base = row * 9
        for col in range(8):
            bits = (bits << 1) | (px[base + col] > px[base + col + 1])
    return f"{bits:016x}"


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two hex hashes of the same length."""
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (spherical Earth)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def _decode_reduced(img: Image.Image, side: int) -> Image.Image:
    """Decode at the smallest size still ≥ ``side`` on the long edge (DCT scaling for JPEG)."""
    w, h = img.size
    if img.format in ("JPEG", "MPO") and max(w, h) > side:
        scale = max(w, h) / side
        img.draft("RGB", (math.ceil(w / scale), math.ceil(h / scale)))
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise _corrupt() from exc
    return img


def _resize_to(img: Image.Image, side: int) -> Image.Image:
    target = _fit(img.size, side)
    if target == img.size:
        return img
    factor = min(img.width // target[0], img.height // target[1])
    if factor >= 2:
        # Integer box reduction first is nearly free and keeps the filter's support small.
        img = img.reduce(factor)
    return img.resize(target, Image.Resampling.BICUBIC)


def process_photo(data: bytes, limits: Limits | None = None) -> ProcessedPhoto:
    """Validate one uploaded photo and produce its renditions, hashes and facts.

    Refuses with :class:`ImageRejected` (nothing to store) when the bytes are not a JPEG, PNG,
    WebP or HEIC/HEIF picture, are a polyglot, truncated or corrupt, or exceed the pixel or side
    limits; the limits are checked on the header, before any pixel is decoded.
    """
    limits = limits or Limits()
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # a global switch someone flipped would hide truncation
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False for photo intake")
    kind = sniff_type(data)
    check_structure(data, kind)
    img = _open_header(data, kind, limits)
    facts = read_facts(img)
    _verify(data, kind)
    icc = img.info.get("icc_profile")
    swap = facts.orientation in (5, 6, 7, 8) and "original_orientation" not in img.info
    width, height = (img.height, img.width) if swap else img.size

    with img:
        decoded = _decode_reduced(img, limits.display_side)
        display = _resize_to(_to_rgb(decoded), limits.display_side)
        if display is decoded:
            display = decoded.copy()
    transpose = None if "original_orientation" in img.info else _TRANSPOSE.get(facts.orientation)
    if transpose is not None:
        display = display.transpose(transpose)
    display = _to_srgb(display, icc)
    thumb = _resize_to(display, limits.thumb_side)
    if thumb is display:
        thumb = display.copy()

    return ProcessedPhoto(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        sha256=hashlib.sha256(data).hexdigest(),
        dhash=dhash_image(thumb),
        width=width,
        height=height,
        display=_encode_jpeg(display, limits.display_quality),
        thumbnail=_encode_jpeg(thumb, limits.thumb_quality),
        facts=facts,
        size=len(data),
    )
