"""Helpers for the PWA browser tests: signing in, filling a form like a person, photos."""
from __future__ import annotations

import functools
import io

import sqlalchemy as sa
from PIL import ExifTags, Image
from playwright.sync_api import expect

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of, submit_filled

#: A phone that lets the app read where it is (photos carry the position).
GEO = {"permissions": ["geolocation"], "geolocation": {"latitude": 39.63, "longitude": 118.18,
                                                       "accuracy": 20}}


def stored(inspection_id: int) -> Inspection:
    """The inspection as the server holds it now."""
    db.session.expire_all()
    return db.session.get(Inspection, inspection_id)


def wait_for(page, condition, seconds: float = 15) -> None:
    """Wait until ``condition()`` holds; Playwright's own waits let route handlers run."""
    for _ in range(int(seconds * 20)):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("condition not met in time")


def plain_items(items: list[dict], n: int) -> list[dict]:
    """Items answered by a tap, needing no photo."""
    return [i for i in items if i["response_type"] == "pass_fail"
            and i["photo_rule"] != "required"][:n]


def sign_in(page, username: str, next_path: str = "/") -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{next_path}")


def open_form(page, username: str, inspection_id: int, query: str = "") -> None:
    """Sign in as ``username`` straight onto an inspection's form, and wait until the phone
    keeps the form (shell and data) offline: where every test of the form starts."""
    sign_in(page, username, f"/tasks/{inspection_id}{query}")
    wait_offline_ready(page)


def outlet_manager_of(inspection: Inspection) -> str:
    """Username of the inspected outlet's manager (who reads its results and appeals)."""
    return db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.outlet_manager, RoleGrant.org_unit_id == inspection.outlet_id))


def open_result_with_finding(new_mobile_context, client, api, inspection: Inspection,
                             code: str = "ENV-03") -> tuple:
    """Submit ``inspection`` through the API as its inspector, every item passing but ``code``,
    then sign the outlet's manager in on its result page (a new phone).

    Returns ``(page, finding)``: the page, and the finding of ``code`` as the submission
    answered it (``{"id", "item_code", "fixed_on_spot"}``)."""
    response = submit_filled(client, api(filler_of(inspection)), inspection.id, fail=(code,))
    assert response.status_code == 200, response.get_json()
    finding = next(f for f in response.get_json()["findings"] if f["item_code"] == code)
    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), f"/results/{inspection.id}")
    return page, finding


def _controlled(page, polls: int) -> bool:
    # polled with evaluate(): wait_for_function would eval a string, which the CSP forbids
    for _ in range(polls):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            return True
        page.wait_for_timeout(100)
    return False


def wait_offline_ready(page) -> None:
    """The service worker controls the page and the form (shell and data) is kept offline.

    The worker claims the page that installed it; on a loaded machine Chromium sometimes only
    hands control over on the next navigation, as it may on a phone — so one reload (the
    person's next visit) is allowed before giving up."""
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=15000)
    if _controlled(page, 50):
        return
    page.reload()
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=15000)
    if not _controlled(page, 100):
        raise AssertionError("the service worker never took control of the page")


@functools.cache  # a camera-sized JPEG takes a while to encode; tests reuse the seeds
def phone_photo(seed: int = 0, size: tuple[int, int] = (3000, 2000)) -> bytes:
    """A camera-sized JPEG with EXIF capture time and GPS (as phones write them)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((seed * 40 % 256, 80, 120), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Apple", "iPhone 15", "2026:11:28 09:15:00"
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:11:28 09:14:30"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1], gps[2], gps[3], gps[4] = "N", (39.0, 37.0, 48.0), "E", (118.0, 10.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=80)
    return buffer.getvalue()


def attach_photo(page, code: str, source: str, seed: int) -> None:
    page.locator(f'[data-photo-input="{code}:{source}"]').set_input_files(
        {"name": f"{code}.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(seed)})
    expect(page.locator(f"#item-{code} .thumb")).to_have_count(1)


def answer(page, item: dict, *, na: bool = False) -> None:
    """Answer one item so that it passes (or N.A.), by tapping and typing as a person would."""
    box = page.locator(f"#item-{item['code']}")
    kind, config = item["response_type"], item["config"]
    if na and kind != "text":
        box.get_by_role("button", name="不适用", exact=True).click()
    elif kind == "pass_fail":
        box.get_by_role("button", name="合格", exact=True).click()
    elif kind == "scale":
        box.get_by_role("button", name=str(config["max"]), exact=True).click()
    elif kind == "number":
        box.locator("input[data-number]").fill(str(config["limit"]))
    elif kind == "deduction":
        box.locator("input[data-number]").fill("0")
    else:
        box.locator("textarea[data-text]").fill("无")


def answer_all(page, items: list[dict], *, photos: dict[str, str] | None = None,
               mystery: bool = False) -> None:
    """Answer every item; items needing a photo are N.A. unless ``photos`` gives them one."""
    photos = photos or {}
    for index, item in enumerate(items):
        if mystery and item["config"].get("derived_from"):
            continue  # computed from the visit's timestamps
        if item["code"] in photos:
            answer(page, item)
            attach_photo(page, item["code"], photos[item["code"]], index)
        else:
            answer(page, item, na=item["photo_rule"] == "required")


def expect_all_answered(page, items: list[dict]) -> None:
    scored = sum(1 for item in items if item["response_type"] != "text")
    expect(page.locator("#form-progress-label")).to_have_text(f"已填 {scored}/{scored}")


_FILL = """async (plan) => {
  for (const [code, kind, value] of plan) {
    const box = document.getElementById("item-" + code);
    if (kind === "click") {
      [...box.querySelectorAll("button.choice")].find((b) => b.textContent === value).click();
    } else {
      const input = box.querySelector(kind);
      input.value = value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}"""


def quick_fill(page, items: list[dict], *, mystery: bool = False,
               keep: tuple[str, ...] = (), all_na: bool = False) -> None:
    """Answer every item (N.A. where a photo would be required, except ``keep``; every scored
    item with ``all_na``) in one go: for tests whose subject is not the tapping itself."""
    plan = []
    for item in items:
        kind, config, code = item["response_type"], item["config"], item["code"]
        if mystery and config.get("derived_from"):
            continue
        if kind != "text" and (all_na or (item["photo_rule"] == "required" and code not in keep)):
            plan.append([code, "click", "不适用"])
        elif kind == "pass_fail":
            plan.append([code, "click", "合格"])
        elif kind == "scale":
            plan.append([code, "click", str(config["max"])])
        elif kind in ("number", "deduction"):
            plan.append([code, "input[data-number]",
                         str(config["limit"]) if kind == "number" else "0"])
        else:
            plan.append([code, "textarea[data-text]", "无"])
    page.evaluate(_FILL, plan)


def trimmed(path, screens: float = 1.6, *, bottom: bool = False) -> None:
    """Keep the top of a full-page screenshot (a 48-item form is metres long) and shrink it."""
    if path is None:
        return
    with Image.open(path) as image:
        width, height = image.size
        tall = min(height, int(width * 2.04 * screens))
        keep = image.crop((0, height - tall if bottom else 0, width, height if bottom else tall))
        keep = keep.resize((width // 2, keep.height // 2), Image.LANCZOS)
        keep.save(path, optimize=True)
