"""The photo pipeline: what it accepts, what it refuses, and what it keeps from a photo."""

import hashlib
import io
import zipfile
from datetime import datetime

import pytest
from PIL import Image, ImageFile

from inspect_app.evidence.imaging import (
    ImageRejected,
    Limits,
    dhash_image,
    hamming,
    haversine_m,
    process_photo,
    sniff_type,
)

from .images import encode, heic, jpeg, make_exif, picture, png_bomb_header

TANGSHAN = (39.6309, 118.1802)


def reopen(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def refused(data: bytes, **kwargs) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process_photo(data, **kwargs)
    return info.value


def red_corner(img: Image.Image) -> str:
    """Which corner holds the red block the test picture has in its top-left corner."""
    img = img.convert("RGB")
    w, h = img.size
    corners = {"top-left": (4, 4), "top-right": (w - 5, 4),
               "bottom-left": (4, h - 5), "bottom-right": (w - 5, h - 5)}
    for name, xy in corners.items():
        r, g, b = img.getpixel(xy)
        if r > 200 and g < 60 and b < 60:
            return name
    return "none"


# ---------------------------------------------------------------- accepted types


@pytest.mark.parametrize("fmt, kind, content_type", [
    ("JPEG", "jpeg", "image/jpeg"),
    ("PNG", "png", "image/png"),
    ("WEBP", "webp", "image/webp"),
])
def test_each_accepted_type_is_processed(fmt, kind, content_type):
    """Are JPEG, PNG and WebP accepted, with both renditions produced as JPEG?"""
    data = encode(picture(400, 200), fmt)
    photo = process_photo(data)
    assert (photo.kind, photo.content_type) == (kind, content_type)
    assert (photo.width, photo.height) == (400, 200)
    assert reopen(photo.display).format == "JPEG"
    assert reopen(photo.thumbnail).format == "JPEG"
    assert photo.size == len(data)


def test_heic_is_accepted_when_pillow_heif_can_encode():
    """Is an iPhone-style HEIC accepted and rendered to JPEG?"""
    data = heic(400, 200, exif=make_exif(lat=TANGSHAN[0], lon=TANGSHAN[1]))
    if data is None:
        pytest.skip("this pillow-heif build has no HEVC encoder to make a test HEIC")
    photo = process_photo(data)
    assert photo.kind == "heic"
    assert photo.content_type == "image/heic"
    assert (photo.width, photo.height) == (400, 200)
    assert photo.facts.camera_make == "Apple"
    assert photo.facts.gps_lat == pytest.approx(TANGSHAN[0], abs=1e-4)
    assert reopen(photo.display).format == "JPEG"


def test_png_with_transparency_and_palette_is_flattened_to_rgb():
    """Do palette and alpha PNGs come out as plain RGB JPEG renditions?"""
    rgba = picture(300, 300).convert("RGBA")
    rgba.putalpha(128)
    for img in (rgba, picture(300, 300).convert("P"), picture(300, 300).convert("L")):
        photo = process_photo(encode(img, "PNG"))
        assert reopen(photo.display).mode == "RGB"


def test_sniffing_ignores_the_name_and_looks_at_bytes_only():
    """Is the type decided by magic bytes, whatever the file claims to be?"""
    assert sniff_type(jpeg()) == "jpeg"
    assert sniff_type(encode(picture(), "PNG")) == "png"
    assert sniff_type(encode(picture(), "WEBP")) == "webp"


# ---------------------------------------------------------------- renditions


def test_large_photo_renditions_fit_their_long_side():
    """Is the display rendition ≤ 1600 px and the thumbnail ≤ 320 px on the long side?"""
    photo = process_photo(jpeg(3000, 2000, quality=80))
    assert reopen(photo.display).size == (1600, 1067)
    assert reopen(photo.thumbnail).size == (320, 213)
    assert (photo.width, photo.height) == (3000, 2000)


def test_small_photo_is_never_upscaled():
    """Does a photo smaller than the renditions keep its size?"""
    photo = process_photo(jpeg(200, 100))
    assert reopen(photo.display).size == (200, 100)
    assert reopen(photo.thumbnail).size == (200, 100)


def test_orientation_6_is_applied_to_renditions_and_dimensions():
    """Does a 400×200 photo tagged orientation 6 come out upright as 200×400?"""
    photo = process_photo(jpeg(400, 200, exif=make_exif(orientation=6)))
    assert (photo.width, photo.height) == (200, 400)
    display = reopen(photo.display)
    assert display.size == (200, 400)
    # Orientation 6 means "rotate 90° clockwise to view": the top-left block ends top-right.
    assert red_corner(display) == "top-right"
    assert reopen(photo.thumbnail).size == (160, 320)
    assert photo.facts.orientation == 6


def test_orientation_3_turns_the_picture_upside_down():
    """Is orientation 3 (180°) applied too?"""
    photo = process_photo(jpeg(400, 200, exif=make_exif(orientation=3)))
    assert (photo.width, photo.height) == (400, 200)
    assert red_corner(reopen(photo.display)) == "bottom-right"


def test_renditions_carry_no_metadata():
    """Do renditions drop EXIF, GPS, XMP, ICC and comments that could identify the shooter?"""
    exif = make_exif(orientation=6, lat=TANGSHAN[0], lon=TANGSHAN[1])
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = jpeg(2400, 1200, exif=exif, comment=b"shopper: Zhang San", xmp=xmp,
                icc_profile=_srgb_icc())
    assert reopen(data).getexif()  # the original does carry it
    photo = process_photo(data)
    for rendition in (photo.display, photo.thumbnail):
        img = reopen(rendition)
        assert not img.getexif()
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
            assert key not in img.info
        assert b"Zhang San" not in rendition
        assert b"Apple" not in rendition
        assert b"Exif" not in rendition


def _srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_original_bytes_are_hashed_exactly():
    """Is the SHA-256 that of the uploaded bytes, so anyone can check the stored original?"""
    data = jpeg(exif=make_exif())
    assert process_photo(data).sha256 == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- facts


def test_exif_facts_are_extracted():
    """Are capture time, offset, GPS (signed), camera and software read from EXIF?"""
    exif = make_exif(lat=-33.8568, lon=-151.2153, taken="2024:05:17 09:31:05",
                     offset="+08:00", make="HUAWEI", model="P60", software="HarmonyOS 4")
    facts = process_photo(jpeg(exif=exif)).facts
    assert facts.exif_present is True
    assert facts.captured_at == datetime(2024, 5, 17, 9, 31, 5)
    assert facts.captured_offset == "+08:00"
    assert facts.gps_lat == pytest.approx(-33.8568, abs=1e-4)
    assert facts.gps_lon == pytest.approx(-151.2153, abs=1e-4)
    assert (facts.camera_make, facts.camera_model) == ("HUAWEI", "P60")
    assert facts.software == "HarmonyOS 4"
    assert facts.has_camera_metadata
    assert facts.as_dict()["captured_at"] == "2024-05-17T09:31:05"


def test_photo_without_exif_says_so():
    """Does a screenshot-like image report no EXIF and no camera?"""
    facts = process_photo(encode(picture(), "PNG")).facts
    assert facts.exif_present is False
    assert facts.captured_at is None and facts.gps_lat is None
    assert not facts.has_camera_metadata


def test_exif_without_gps_leaves_position_empty():
    """Is a photo without GPS tags given no position rather than 0,0?"""
    facts = process_photo(jpeg(exif=make_exif())).facts
    assert facts.exif_present
    assert (facts.gps_lat, facts.gps_lon) == (None, None)


# ---------------------------------------------------------------- hashes


def test_dhash_is_stable_under_reencoding_and_resizing():
    """Does the same picture, re-saved smaller at low quality, keep a near-identical dhash?"""
    original = process_photo(jpeg(1200, 800, seed=3, quality=92))
    again = encode(picture(1200, 800, seed=3).resize((900, 600)), "JPEG", quality=40)
    assert hamming(original.dhash, process_photo(again).dhash) <= 6
    assert len(original.dhash) == 16


def test_dhash_differs_for_different_pictures():
    """Do different pictures get clearly different dhashes?"""
    a = process_photo(jpeg(800, 600, seed=1)).dhash
    b = process_photo(encode(Image.effect_noise((800, 600), 80).convert("RGB"), "JPEG")).dhash
    assert hamming(a, b) > 12


def test_hamming_counts_differing_bits():
    """Is the Hamming distance the number of differing bits?"""
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("ffffffffffffffff", "0000000000000000") == 64
    assert hamming("0000000000000003", "0000000000000001") == 1


def test_dhash_image_of_a_flat_image_is_zero():
    """Is a flat picture's dhash all zeros (no brighter-left pairs)?"""
    assert dhash_image(Image.new("RGB", (50, 50), (120, 120, 120))) == "0" * 16


def test_haversine_gives_metres():
    """Is one degree of latitude about 111 km and the same point 0 m?"""
    assert haversine_m(*TANGSHAN, *TANGSHAN) == 0
    assert haversine_m(39.0, 118.0, 40.0, 118.0) == pytest.approx(111_195, rel=1e-3)


# ---------------------------------------------------------------- refusals


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
       b"<script>alert(1)</script></svg>")
PDF = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api')</script></body></html>"


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("payload.html", HTML)
    return out.getvalue()


@pytest.mark.parametrize("name, data", [
    ("svg", SVG),
    ("pdf", PDF),
    ("html", HTML),
    ("elf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    ("windows exe", b"MZ\x90\x00\x03" + b"\x00" * 200 + b"PE\x00\x00"),
    ("zip", _zip_bytes()),
    ("gif", encode(picture(), "GIF")),
    ("text", "检查记录".encode()),
])
def test_non_photo_files_are_refused_as_unsupported(name, data):
    """Is anything that is not JPEG/PNG/WebP/HEIC refused with 415, whatever its name?"""
    err = refused(data)
    assert (err.code, err.status) == ("unsupported_type", 415)
    assert "不支持" in err.message


def test_svg_renamed_as_jpg_is_refused():
    """Does an SVG uploaded as photo.jpg with image/jpeg still get refused?"""
    err = refused(SVG)
    assert err.code == "unsupported_type"


def test_zero_bytes_are_refused():
    """Is an empty upload refused with 400?"""
    err = refused(b"")
    assert (err.code, err.status) == ("empty_file", 400)


def test_truncated_jpeg_is_refused():
    """Is a JPEG cut short (weak network) refused as corrupt rather than half-rendered?"""
    data = jpeg(1200, 900)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    for cut in (len(data) // 2, len(data) - 2):
        err = refused(data[:cut])
        assert (err.code, err.status) == ("corrupt_image", 422)


def test_truncated_png_is_refused():
    """Is a PNG cut short refused as corrupt?"""
    data = encode(picture(600, 400), "PNG")
    assert refused(data[: len(data) * 2 // 3]).code == "corrupt_image"


def test_corrupt_bytes_after_a_jpeg_header_are_refused():
    """Is a JPEG signature followed by garbage refused as corrupt?"""
    assert refused(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20).code == "corrupt_image"


def test_corrupt_png_chunk_is_refused():
    """Does a PNG with a damaged chunk (bad CRC) fail verification?"""
    data = bytearray(encode(picture(300, 200), "PNG"))
    data[40] ^= 0xFF  # inside the first IDAT
    assert refused(bytes(data)).code == "corrupt_image"


def test_jpeg_with_pdf_appended_is_refused():
    """Is a JPEG that is also a PDF (payload after EOI) refused as a polyglot?"""
    err = refused(jpeg() + PDF)
    assert (err.code, err.status) == ("polyglot_file", 422)


def test_jpeg_with_zip_appended_is_refused():
    """Is a JPEG that is also a ZIP archive refused as a polyglot?"""
    assert refused(jpeg() + _zip_bytes()).code == "polyglot_file"


def test_jpeg_with_html_in_a_comment_is_refused():
    """Is a JPEG carrying a script in its comment segment refused?"""
    assert refused(jpeg(comment=HTML)).code == "polyglot_file"


def test_png_with_trailing_payload_is_refused():
    """Is data hidden after a PNG's IEND refused?"""
    assert refused(encode(picture(), "PNG") + b"\x00" * 10 + HTML).code == "polyglot_file"


def test_jpeg_followed_by_another_jpeg_is_accepted():
    """Are phone JPEGs with appended images (MPF depth or gain maps) still accepted?"""
    photo = process_photo(jpeg(400, 200) + jpeg(100, 50, seed=9))
    assert photo.kind == "jpeg"


def test_decompression_bomb_is_refused_without_decoding(monkeypatch):
    """Is a tiny PNG claiming 100000×100000 pixels refused with 422 before any decoding?"""
    data = png_bomb_header()
    assert len(data) < 200

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    err = refused(data)
    assert (err.code, err.status) == ("too_many_pixels", 422)


def test_pixel_limit_is_ours_not_only_pillows(monkeypatch):
    """Is our own pixel limit enforced even if Pillow's global bomb guard were switched off?"""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    err = refused(png_bomb_header(8000, 7000))  # 56 MP > 50 MP, sides within limits
    assert err.code == "too_many_pixels"


def test_over_long_side_is_refused():
    """Is a strip longer than the side limit refused before decoding?"""
    err = refused(png_bomb_header(13_000, 10))
    assert (err.code, err.status) == ("too_large_dimensions", 422)
    err = refused(jpeg(900, 60), limits=Limits(max_side=800))
    assert err.code == "too_large_dimensions"


def test_custom_pixel_limit_applies():
    """Can the pixel limit be lowered through Limits?"""
    assert refused(jpeg(400, 300), limits=Limits(max_pixels=100_000)).code == "too_many_pixels"


def test_rejection_messages_are_chinese_and_codes_stable():
    """Does every refusal carry a snake_case code and a Chinese message?"""
    for data in (b"", SVG, jpeg()[:500], jpeg() + PDF, png_bomb_header()):
        err = refused(data)
        assert err.code.replace("_", "").isalpha() and err.code.islower()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message)


def test_png_with_script_in_a_text_chunk_is_refused():
    """Is a PNG whose tEXt chunk carries HTML refused as a polyglot?"""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HTML.decode())
    assert refused(encode(picture(), "PNG", pnginfo=info)).code == "polyglot_file"


def test_webp_with_trailing_zip_is_refused():
    """Is a WebP with an archive after its RIFF container refused?"""
    assert refused(encode(picture(), "WEBP") + _zip_bytes()).code == "polyglot_file"


def test_multi_picture_jpeg_from_a_phone_is_accepted():
    """Is an MPO (JPEG with an appended picture, as phones write) accepted and rendered?"""
    data = encode(picture(800, 600), "MPO", save_all=True, append_images=[picture(800, 600, 5)],
                  exif=make_exif(orientation=6).tobytes())
    photo = process_photo(data)
    assert photo.kind == "jpeg"
    assert reopen(photo.display).size == (600, 800)


def test_cmyk_and_16_bit_images_are_rendered_as_rgb():
    """Do CMYK JPEGs and 16-bit greyscale PNGs come out as RGB renditions?"""
    cmyk = encode(picture(300, 200).convert("CMYK"), "JPEG")
    grey16 = encode(picture(300, 200).convert("L").convert("I;16"), "PNG")
    for data in (cmyk, grey16):
        img = reopen(process_photo(data).display)
        assert img.mode == "RGB" and img.size == (300, 200)


def test_heic_orientation_is_applied_once():
    """Is a HEIC tagged orientation 6 rendered upright, not rotated twice?"""
    data = heic(400, 200, exif=make_exif(orientation=6))
    if data is None:
        pytest.skip("this pillow-heif build has no HEVC encoder to make a test HEIC")
    photo = process_photo(data)
    assert (photo.width, photo.height) == (200, 400)
    assert reopen(photo.display).size == (200, 400)
    assert red_corner(reopen(photo.display)) == "top-right"
    assert photo.facts.orientation == 6


def test_pipeline_refuses_to_run_with_truncated_loading_enabled(monkeypatch):
    """Does intake refuse to run if someone turned on Pillow's LOAD_TRUNCATED_IMAGES globally?"""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        process_photo(jpeg())


def test_jpeg_claiming_huge_dimensions_is_refused_without_decoding(monkeypatch):
    """Is a small JPEG whose frame header claims 60000×60000 refused before decoding?"""
    data = bytearray(jpeg(64, 48))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = (60_000).to_bytes(2, "big") * 2  # height, width
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    err = refused(bytes(data))
    assert (err.code, err.status) == ("too_many_pixels", 422)
