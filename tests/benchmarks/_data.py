"""Synthetic, realistic data for the PDF benchmark: phone-sized photos and rectification lists.

Originals are photograph-like JPEGs (gradients, soft shapes, sensor grain), distinct per seed, and
cached on disk under :data:`CACHE_DIR` because encoding them is the slow part of a first run.
Thumbnails are made the way the intake pipeline does it: JPEG draft-mode decode at reduced
scale, then a resize to ≤ 320 px on the long side.
"""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

CACHE_DIR = Path("/tmp/inspect_app_pdf_bench")
ORIGINAL_SIZE = (3024, 2268)
THUMB_SIDE = 320

SECTIONS = ["网点颜值靓化", "网点服务效率", "网点服务规范", "网点服务温度", "线上线下一体化"]
ITEMS = [
    ("ENV-03", "营业厅整洁明亮，地面、台面无杂物堆放，宣传折页统一摆放在指定位置",
     "合格标准：大堂地面无污渍、无纸屑；填单台物品定置摆放；宣传品不超过规定数量。"),
    ("EFF-02", "高峰时段开足窗口，客户等候时间不超过 15 分钟",
     "合格标准：叫号机显示等候人数超过 10 人时，增开弹性窗口；超时占比低于 5%。"),
    ("STD-05", "柜员起身迎接客户，使用标准服务用语，双手递接单据与证件",
     "合格标准：客户到达窗口 3 秒内问候；办理结束后礼貌道别。"),
    ("WRM-04", "配备盲人卡、手语服务手册、老花镜等特殊群体服务设施并可正常使用",
     "合格标准：设施齐全、摆放显眼，员工知晓使用方法。"),
    ("O2O-01", "云网点二维码、社保医疗场景服务指引张贴规范，扫码可正常访问",
     "合格标准：二维码清晰完整，链接有效，指引内容为最新版本。"),
]
NOTES = ["大堂东侧角落堆放纸箱三个，填单台笔具缺失", "14:00 至 15:00 仅开放两个窗口，等候人数最多 23 人",
         "3 号窗口柜员未起身迎接，单据单手递出", "盲人卡未找到，员工不清楚存放位置",
         "社保服务二维码破损，扫码无法打开页面"]
OUTLETS = [("TS-LB-01", "路北支行营业室"), ("TS-LB-02", "路北支行龙泽路支行"),
           ("TS-LB-03", "路北支行翔云道支行"), ("TS-LB-04", "路北支行光明里分理处"),
           ("TS-LB-05", "路北支行缸窑路支行")]
STATES = ["待整改", "已提交", "已退回", "已验收", "已关闭"]
PEOPLE = ["张三", "王丽", "刘洋", "陈静", "赵磊"]


def photo_image(seed: int, size: tuple[int, int] = ORIGINAL_SIZE) -> Image.Image:
    """A photograph-like picture, different for every ``seed``."""
    rnd = random.Random(seed)
    w, h = size
    small = Image.merge("RGB", [
        Image.linear_gradient("L").rotate(rnd.uniform(0, 360)).resize((w // 8, h // 8))
        for _ in range(3)])
    draw = ImageDraw.Draw(small)
    for i in range(260):  # objects at every scale: what gives a real thumbnail its bytes
        x, y = rnd.randrange(w // 8), rnd.randrange(h // 8)
        r = rnd.randrange(2, w // (16 if i < 20 else 80))
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=tuple(rnd.randrange(256) for _ in range(3)))
    noise = Image.effect_noise((w // 8, h // 8), 50).convert("RGB")
    base = Image.blend(small, noise, 0.25).filter(ImageFilter.GaussianBlur(0.8))
    img = base.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 24).convert("RGB")
    return Image.blend(img, grain, 0.15)


def original_jpeg(seed: int, size: tuple[int, int] = ORIGINAL_SIZE) -> bytes:
    """The original JPEG for ``seed`` (quality 90, as phones save), cached under /tmp."""
    path = CACHE_DIR / f"orig-{size[0]}x{size[1]}-{seed}.jpg"
    if path.exists():
        return path.read_bytes()
    out = io.BytesIO()
    photo_image(seed, size).save(out, "JPEG", quality=90)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(out.getvalue())
    tmp.replace(path)
    return out.getvalue()


def thumbnail_jpeg(original: bytes, side: int = THUMB_SIDE) -> bytes:
    """A ≤ ``side`` px JPEG thumbnail, decoded in draft mode (DCT scaling) like the intake does."""
    with Image.open(io.BytesIO(original)) as img:
        img.draft("RGB", (side, side))
        img = img.convert("RGB")
        img.thumbnail((side, side), Image.Resampling.BICUBIC)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=80)
        return out.getvalue()


class PhotoSet:
    """Distinct photos: originals and thumbnails by seed, both stored in one in-memory dict.

    Seeds below ``full_size_seeds`` get real 3024×2268 originals (cached on disk); the others get
    one-third-size originals — their thumbnails are just as distinct and just as large, and
    generating hundreds of 7 MP JPEGs would dominate the benchmark's run time.
    """

    def __init__(self, full_size_seeds: int = 40) -> None:
        self.blobs: dict[str, bytes] = {}
        self.full_size_seeds = full_size_seeds

    def fetch(self, key: str) -> bytes:
        """``fetch_image`` for the renderer."""
        return self.blobs[key]

    def photo(self, seed: int, *, original: bool = False) -> dict[str, str]:
        """The context entry for photo ``seed``: its thumbnail key (or original's) and SHA-256."""
        size = ORIGINAL_SIZE if seed < self.full_size_seeds else (1008, 756)
        orig = original_jpeg(seed, size)
        digest = hashlib.sha256(orig).hexdigest()
        if original:
            key = f"orig-{digest}"
            self.blobs.setdefault(key, orig)
        else:
            key = f"thumb-{digest}"
            if key not in self.blobs:
                tpath = CACHE_DIR / f"thumb-{digest}.jpg"
                if tpath.exists():
                    self.blobs[key] = tpath.read_bytes()
                else:
                    self.blobs[key] = data = thumbnail_jpeg(orig)
                    tpath.write_bytes(data)
        return {"key": key, "sha256": digest}


def rectification_list(n_findings: int, photos: PhotoSet, *, audience: str = "reviewer",
                       originals: bool = False, n_outlets: int = 5) -> dict:
    """A sub-branch rectification-list context with ``n_findings`` spread over the outlets."""
    rnd = random.Random(n_findings)
    outlets = [{"code": code, "name": name, "subbranch": "路北支行", "items": []}
               for code, name in OUTLETS[:n_outlets]]
    for n in range(n_findings):
        code, text, standard = ITEMS[n % len(ITEMS)]
        outlet = outlets[n % n_outlets]
        overdue = n % 4 == 0
        outlet["items"].append({
            "number": 0, "item_code": code, "item_text": text, "standard": standard,
            "section": SECTIONS[n % len(SECTIONS)], "finding_note": NOTES[n % len(NOTES)],
            "severity": rnd.choice(["一般", "较重", "严重"]),
            "deadline": f"2026-12-{1 + n % 28:02d}", "state": STATES[n % len(STATES)],
            "overdue": overdue, "responsible": PEOPLE[n % len(PEOPLE)],
            "mode": rnd.choice(["自查", "互查", "抽查"]), "inspection_date": "2026-11-20",
            "inspector": rnd.choice(["李四", "孙敏", "周建国"]),
            "before_photos": [photos.photo(2 * n, original=originals)],
            "after_photos": [photos.photo(2 * n + 1, original=originals)],
            "evidence_flags": ["拍摄时间不在检查时段内"] if n % 7 == 0 else [],
        })
    number = 0
    for outlet in outlets:
        outlet["items"].sort(key=lambda item: item["deadline"])
        for item in outlet["items"]:
            number += 1
            item["number"] = number
    states = [item["state"] for outlet in outlets for item in outlet["items"]]
    return {
        "title": "整改清单", "scope_label": "路北支行 · 2026年11月", "audience": audience,
        "generated_at": "2026-11-28 10:30", "period_label": "2026-11-01 至 2026-11-30",
        "campaign_label": None,
        "summary": {"total": n_findings, "open": states.count("待整改") + states.count("已退回"),
                    "submitted": states.count("已提交"), "accepted": states.count("已验收"),
                    "closed": states.count("已关闭"), "overdue": (n_findings + 3) // 4},
        "outlets": outlets, "signature": True,
    }
