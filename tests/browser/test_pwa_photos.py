"""Photos on the form: 立查立改's after-photo, removing a photo, camera facts kept through the
downscale, and photos the phone or the server refuses."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image
from playwright.sync_api import expect

from inspect_app.evidence.models import Photo
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection, InspectionStatus
from inspect_app.rectification.models import RectificationItem

from ..helpers import filler_of
from .pwa_helpers import attach_photo, phone_photo, quick_fill, sign_in, wait_offline_ready


@pytest.fixture
def spot(first):
    """A spot-check assignment: (id, the inspector's username, the form's items)."""
    inspection = first("spot_check")
    return (inspection.id, filler_of(inspection),
            [item.to_document() for item in inspection.form_items()])


def photos_of(inspection_id: int) -> list[Photo]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Photo).where(Photo.inspection_id == inspection_id)
                                   .order_by(Photo.id)))


def jpeg_file(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def open_form(page, username: str, inspection_id: int) -> None:
    sign_in(page, username, f"/tasks/{inspection_id}")
    page.wait_for_selector("html[data-form-ready]", state="attached", timeout=15000)


def test_a_red_line_fixed_on_the_spot_asks_for_its_after_photo(new_mobile_context, spot):
    """A red-line failure ticked 已立查立改: does the form ask for the after-photo (整改后照片)
    before submitting, send it as an after-photo, and do the closed finding and the result page
    show it beside the finding?"""
    inspection_id, username, items = spot
    code = next(i["code"] for i in items if i["red_line"] and i["response_type"] == "pass_fail")
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items)
    box = page.locator(f"#item-{code}")
    box.get_by_role("button", name="不合格", exact=True).click()
    attach_photo(page, code, "camera", 3)
    expect(box.locator(".after-photos")).to_have_count(0)
    box.locator(f'[data-fixed="{code}"]').check()
    expect(box.locator(".after-photos")).to_contain_text("整改后照片")

    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#missing")).to_contain_text(f"{code} 立查立改需要整改后照片")
    assert db.session.get(Inspection, inspection_id).status is not InspectionStatus.submitted

    box.locator(f'[data-photo-input="{code}:after:camera"]').set_input_files(
        jpeg_file("after.jpg", phone_photo(4)))
    expect(box.locator(".after-photos .thumb .badge")).to_have_text("已上传", timeout=15000)
    expect(box.locator(".photos .thumb")).to_have_count(1)  # the before-photo stays apart
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)

    photos = photos_of(inspection_id)
    assert sorted((p.item_code, p.purpose.value) for p in photos if p.item_code == code) == [
        (code, "after"), (code, "before")]
    item = db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection_id, RectificationItem.item_code == code))
    assert item.closed_reason.value == "fixed_on_spot"
    after = next(p for p in photos if p.purpose.value == "after")
    assert after.rectification_item_id == item.id

    page.goto(f"/results/{inspection_id}")
    shown = page.locator(f'[data-after-photos="{code}"]')
    expect(shown).to_contain_text("整改后照片")
    expect(shown.locator(f'img[data-photo="{after.id}"]')).to_have_count(1)
    expect(page.locator(f'img[data-photo="{after.id}"]')).to_have_count(1)  # not among befores


def upload_as(client, headers, inspection_id: int, code: str, seed: int) -> int:
    """A photo the server holds from elsewhere (another device of the same inspector)."""
    from ..helpers import jpeg, new_key

    response = client.post(f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
                           data={"client_id": new_key(), "item_code": code,
                                 "file": (io.BytesIO(jpeg(seed)), "p.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_an_uploaded_photo_can_be_removed_online_and_offline(new_mobile_context, spot, client,
                                                             api):
    """A photo already uploaded (by this phone, or known only from the server): does each get a
    remove button with a confirmation, go from the server (at once online, once back online when
    removed offline), stay gone on reload, and stay out of the result?"""
    inspection_id, username, items = spot
    elsewhere = upload_as(client, api(username), inspection_id, "ENV-05", 41)
    context = new_mobile_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    open_form(page, username, inspection_id)
    wait_offline_ready(page)
    attach_photo(page, "ENV-01", "camera", 5)
    expect(page.locator("#item-ENV-01 .badge")).to_have_text("已上传", timeout=15000)
    expect(page.locator("#item-ENV-05 .thumb .badge")).to_have_text("已上传")

    page.locator("#item-ENV-01 .thumb .remove").click()
    expect(page.locator("#item-ENV-01 .thumb")).to_have_count(0)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    assert [p.item_code for p in photos_of(inspection_id)] == ["ENV-05"]

    context.set_offline(True)
    page.locator("#item-ENV-05 .thumb .remove").click()
    expect(page.locator("#item-ENV-05 .thumb")).to_have_count(0)
    page.reload()
    page.wait_for_selector("html[data-form-ready]", state="attached", timeout=15000)
    expect(page.locator("#item-ENV-05 .thumb")).to_have_count(0)
    assert [p.id for p in photos_of(inspection_id)] == [elsewhere]  # still there: offline

    context.set_offline(False)
    page.locator("#sync-now").click()
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    assert photos_of(inspection_id) == []
    page.reload()
    page.wait_for_selector("html[data-form-ready]", state="attached", timeout=15000)
    expect(page.locator("#item-ENV-05 .thumb")).to_have_count(0)
    expect(page.locator("#item-ENV-01 .thumb")).to_have_count(0)

    quick_fill(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    page.goto(f"/results/{inspection_id}")
    expect(page.locator(".result-items")).not_to_have_count(0)
    expect(page.locator("img[data-photo]")).to_have_count(0)


def test_a_submitted_form_offers_no_remove_button(new_mobile_context, spot, client, api):
    """Once submitted, is no photo removable any more (the server refuses it as well)?"""
    inspection_id, username, items = spot
    upload_as(client, api(username), inspection_id, "ENV-05", 42)
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    expect(page.locator("#item-ENV-05 .thumb .remove")).to_have_count(1)
    quick_fill(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    expect(page.locator("#item-ENV-05 .thumb")).to_have_count(1)
    expect(page.locator(".thumb .remove")).to_have_count(0)


def sideways_camera_photo() -> bytes:
    """A 3000×2000 camera JPEG stored sideways (EXIF Orientation 6: turn 90° clockwise to
    view), with Make/Model/DateTime as a phone writes them; its stored top-left corner is red,
    so upright it is the top-right one."""
    image = Image.new("RGB", (3000, 2000), (20, 120, 200))
    image.paste((230, 20, 20), (0, 0, 750, 500))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Apple", "iPhone 13", "2026:11:28 09:15:00"
    exif[0x0112] = 6
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:11:28 09:14:30"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=85)
    return buffer.getvalue()


def test_a_downscaled_camera_photo_keeps_its_camera_facts(new_mobile_context, spot):
    """A full-size camera photo is downscaled on the phone: does the server still read its
    camera (no 无相机信息 flag) and capture time, and is it upright — turned once, not twice?"""
    from inspect_app.evidence.operations import storage

    inspection_id, username, _items = spot
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    page.locator('[data-photo-input="ENV-01:camera"]').set_input_files(
        jpeg_file("IMG_0001.jpg", sideways_camera_photo()))
    expect(page.locator("#item-ENV-01 .badge")).to_have_text("已上传", timeout=20000)

    [photo] = photos_of(inspection_id)
    assert (photo.camera_make, photo.camera_model) == ("Apple", "iPhone 13")
    assert "no_camera_metadata" not in [flag["code"] for flag in photo.flags]
    assert photo.captured_at.startswith("2026-11-28T09:14:30")
    assert max(photo.width, photo.height) <= 2048 and photo.width < photo.height  # upright
    with Image.open(io.BytesIO(storage().open(photo.display_key))) as shown:
        assert shown.width < shown.height
        red, blue = shown.getpixel((shown.width - 20, 20)), shown.getpixel((20, 20))
    assert red[0] > 180 and red[2] < 80, red      # the red corner is top right: turned once
    assert blue[2] > 150 and blue[0] < 80, blue
    with Image.open(io.BytesIO(storage().open(photo.original_key))) as sent:
        assert sent.getexif().get(0x0112) == 1  # the phone turned it, and says so


def test_a_file_that_is_no_picture_is_refused_on_the_phone_at_once(new_mobile_context, spot):
    """A text file named .heic picked from the gallery: is it refused at once on the item, by
    name, with nothing queued?"""
    inspection_id, username, _items = spot
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    page.locator('[data-photo-input="ENV-01:gallery"]').set_input_files(
        {"name": "fake.heic", "mimeType": "image/heic", "buffer": b"not a picture at all\n" * 20})
    expect(page.locator('[data-not-photo="ENV-01"]')).to_contain_text("「fake.heic」不是照片")
    expect(page.locator("#item-ENV-01 .thumb")).to_have_count(0)
    assert page.evaluate("""async () => {
        const db = await new Promise((ok) => { const r = indexedDB.open("inspect-pwa"); r.onsuccess = () => ok(r.result); });
        return await new Promise((ok) => { const r = db.transaction("outbox").objectStore("outbox").count(); r.onsuccess = () => ok(r.result); });
    }""") == 0


def test_a_photo_the_server_refuses_says_where_and_does_not_count(new_mobile_context, spot):
    """A picked picture the server refuses (a broken JPEG): does the sync bar name the outlet
    and the item — as a photo, not 拍照 — on the form and on 我的任务, does the item say 上传失败,
    and does the check before submitting still ask for the photo?"""
    inspection_id, username, items = spot
    outlet = db.session.get(Inspection, inspection_id).outlet.name
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items, keep=("ENV-01",))
    page.locator("#item-ENV-01").get_by_role("button", name="合格", exact=True).click()
    broken = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"\x13" * 4000  # a JPEG's start only
    page.locator('[data-photo-input="ENV-01:gallery"]').set_input_files(
        {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": broken})
    expect(page.locator("#item-ENV-01 .thumb .badge")).to_have_text("上传失败", timeout=15000)
    expect(page.locator('[data-photo-error="ENV-01"]')).to_contain_text("上传失败：")
    bar = page.locator("#sync-error")
    expect(bar).to_contain_text(f"{outlet} ENV-01 照片 · ")
    expect(bar).not_to_contain_text("拍照")

    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#missing")).to_contain_text("ENV-01 需要拍照留证")
    assert photos_of(inspection_id) == []

    page.goto("/tasks")
    expect(page.locator("#sync-error")).to_contain_text(f"{outlet} ENV-01 照片 · ")
