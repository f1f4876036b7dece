"""Photo intake benchmark: ours vs. a naive Pillow pipeline vs. libvips, on a 12 MP phone photo.

Run with ``python -m tests.benchmarks.photos``. The last line is machine-readable:

    photos: ours_ms=<n> naive_ms=<n> vips_ms=<n> speedup_vs_naive=<x> ratio_vs_vips=<x> peak_rss_mb=<n>

Targets (issue 5): speedup_vs_naive ≥ 1.8, ratio_vs_vips ≤ 1.25, peak_rss_mb ≤ 150. This is a
benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from fractions import Fraction

from PIL import Image, ImageFilter, ImageOps

from inspect_app.evidence.imaging import Limits, process_photo

REPEAT = 7
WIDTH, HEIGHT = 4032, 3024


def make_photo_image(width=WIDTH, height=HEIGHT) -> Image.Image:
    """Photograph-like content: smooth gradients, soft shapes, texture and sensor noise."""
    small = Image.merge("RGB", [
        Image.linear_gradient("L").rotate(angle).resize((width // 8, height // 8))
        for angle in (0, 90, 45)
    ])
    noise_small = Image.effect_noise((width // 8, height // 8), 60).convert("RGB")
    base = Image.blend(small, noise_small, 0.35).filter(ImageFilter.GaussianBlur(3))
    img = base.resize((width, height), Image.Resampling.BICUBIC)
    # Fine texture and sensor noise at full resolution: what makes real JPEGs 3–5 MB.
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    return Image.blend(img, grain, 0.18)


def make_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 13"
    exif[0x0131] = "17.4.1"
    exif[0x0112] = 6
    exif[0x0132] = "2024:05:17 09:31:05"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:17 09:31:05"
    sub[0x9011] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (Fraction(39), Fraction(37), Fraction(4523, 100))
    gps[3], gps[4] = "E", (Fraction(118), Fraction(10), Fraction(5, 1))
    return exif


def make_jpeg() -> bytes:
    out = io.BytesIO()
    make_photo_image().save(out, "JPEG", quality=90, exif=make_exif().tobytes())
    return out.getvalue()


def make_heic() -> bytes | None:
    try:
        import pillow_heif  # noqa: F401 - registers the HEIF saver
        out = io.BytesIO()
        make_photo_image().save(out, "HEIF", quality=85, exif=make_exif().tobytes())
        return out.getvalue()
    except Exception:  # noqa: BLE001 - no HEVC encoder in this build
        return None


def ours(data: bytes) -> None:
    process_photo(data)


def naive(data: bytes) -> None:
    """What most code does: full decode, rotate at full size, thumbnail twice."""
    limits = Limits()
    img = Image.open(io.BytesIO(data))
    img.load()
    img = ImageOps.exif_transpose(img)
    display = img.copy()
    display.thumbnail((limits.display_side, limits.display_side))
    out = io.BytesIO()
    display.convert("RGB").save(out, "JPEG", quality=limits.display_quality)
    thumb = display.copy()
    thumb.thumbnail((limits.thumb_side, limits.thumb_side))
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=limits.thumb_quality)


def vips_pipeline():
    try:
        import pyvips
    except (ImportError, OSError) as exc:
        print(f"pyvips unavailable ({exc}); vips_ms reported as 0", file=sys.stderr)
        return None
    limits = Limits()
    pyvips.cache_set_max(0)  # no operation cache: every run must decode, as an upload would

    def run(data: bytes) -> None:
        display = pyvips.Image.thumbnail_buffer(data, limits.display_side)
        display.jpegsave_buffer(Q=limits.display_quality, strip=True)
        thumb = pyvips.Image.thumbnail_buffer(data, limits.thumb_side)
        thumb.jpegsave_buffer(Q=limits.thumb_quality, strip=True)

    return run


def median_ms(pipelines: dict, data: bytes, repeat: int = REPEAT) -> dict:
    """Median wall time of each pipeline, run in rotation so background load hits all alike."""
    for fn in pipelines.values():
        fn(data)  # warm-up: imports, codec initialisation, page faults
    times = {name: [] for name in pipelines}
    for _ in range(repeat):
        for name, fn in pipelines.items():
            start = time.perf_counter()
            fn(data)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


_RSS_CHILD = """
import resource, sys
from inspect_app.evidence.imaging import process_photo
data = open(sys.argv[1], "rb").read()
process_photo(data)
# VmHWM is this process's own high-water mark; ru_maxrss can carry over the forking parent's.
try:
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(hwm)
"""


def peak_rss_mb(data: bytes) -> float:
    """Peak RSS of a fresh interpreter that imports the pipeline and ingests one photo."""
    import os
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as fh:
        fh.write(data)
        path = fh.name
    try:
        out = subprocess.run([sys.executable, "-c", _RSS_CHILD, path], check=True,
                             capture_output=True, text=True, cwd=os.getcwd())
    finally:
        os.unlink(path)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # both are KiB on Linux


def main() -> None:
    data = make_jpeg()
    print(f"jpeg: {WIDTH}x{HEIGHT} {len(data) / 1e6:.2f} MB, repeat={REPEAT}")
    vips = vips_pipeline()
    pipelines = {"ours": ours, "naive": naive}
    if vips:
        pipelines["vips"] = vips
    medians = median_ms(pipelines, data)
    ours_ms, naive_ms, vips_ms = medians["ours"], medians["naive"], medians.get("vips", 0.0)
    print(f"jpeg: ours={ours_ms:.1f} ms naive={naive_ms:.1f} ms vips={vips_ms:.1f} ms")

    heic = make_heic()
    if heic:
        print(f"heic: {WIDTH}x{HEIGHT} {len(heic) / 1e6:.2f} MB")
        heic_medians = median_ms({"ours": ours, "naive": naive}, heic, 3)
        h_ours, h_naive = heic_medians["ours"], heic_medians["naive"]
        print(f"heic: ours={h_ours:.1f} ms naive={h_naive:.1f} ms (vips has no HEVC decoder here)")
    else:
        print("heic: pillow-heif cannot encode HEVC here; skipped")

    rss = peak_rss_mb(data)
    result = {
        "ours_ms": round(ours_ms, 1),
        "naive_ms": round(naive_ms, 1),
        "vips_ms": round(vips_ms, 1),
        "speedup_vs_naive": round(naive_ms / ours_ms, 2),
        "ratio_vs_vips": round(ours_ms / vips_ms, 2) if vips_ms else 0.0,
        "peak_rss_mb": round(rss, 1),
    }
    print(json.dumps(result))
    print("photos: " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
