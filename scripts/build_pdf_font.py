"""Build the pre-subset CJK font the PDFs use: ``static/fonts/NotoSansCJKsc-PDF.otf``.

Run at build time, not at run time (the output is committed with its licence):

    .venv/bin/python scripts/build_pdf_font.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

WeasyPrint subsets every font it embeds, once per PDF. Subsetting the 65,000-glyph Noto Sans CJK
face costs tens of milliseconds per document even with HarfBuzz; a face that holds only what
Chinese service documents use (GB 2312's 6,763 hanzi — which cover the 3,500 characters of the
通用规范汉字表 level 1 — plus ASCII, Latin-1 punctuation, CJK punctuation and full-width forms,
plus every character written in this repository) is subset in a few milliseconds. A character
outside it (a rare name) is still printed: the stylesheet lists the full system Noto Sans CJK
SC next, and Pango falls back to it per character.
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TARGET = ROOT / "static" / "fonts" / "NotoSansCJKsc-PDF.otf"
FAMILY = "Noto Sans CJK SC"


def gb2312_hanzi() -> set[str]:
    """The 6,763 hanzi of GB 2312 (rows 16–87)."""
    chars = set()
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def repository_characters() -> set[str]:
    """Every character used in the product's own texts (checklists, templates, messages)."""
    chars: set[str] = set()
    for folder, patterns in ((ROOT / "inspect_app", ("*.py", "*.json", "*.po")),
                             (ROOT / "templates", ("*.html",))):
        for pattern in patterns:
            for path in folder.rglob(pattern):
                chars.update(path.read_text(encoding="utf-8", errors="ignore"))
    return {c for c in chars if ord(c) >= 0x20}


def wanted() -> set[int]:
    ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203B), (0x2103, 0x2103),
              (0x2160, 0x216B), (0x2190, 0x2193), (0x2460, 0x2473), (0x25A0, 0x25CF),
              (0x2605, 0x2606), (0x3000, 0x303F), (0xFF01, 0xFF5E), (0xFFE0, 0xFFE5)]
    codes = {c for lo, hi in ranges for c in range(lo, hi + 1)}
    codes |= {ord(c) for c in gb2312_hanzi() | repository_characters()}
    return codes


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    collection = TTCollection(str(source))
    font = next(f for f in collection.fonts
                if f["name"].getDebugName(1) == FAMILY)
    options = subset.Options()
    options.layout_features = ["kern"]  # horizontal Simplified Chinese only
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.hinting = False
    options.desubroutinize = False
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted())
    subsetter.subset(font)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(TARGET))
    print(f"{TARGET.relative_to(ROOT)}: {len(font.getGlyphOrder())} glyphs, "
          f"{TARGET.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
