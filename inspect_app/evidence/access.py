"""Who may see a photo, and how much of it: the same rules as the inspection it belongs to."""
from __future__ import annotations

from dataclasses import dataclass

from ..auth.models import User
from ..auth.permissions import Permission
from ..errors import NotFound
from ..extensions import db
from ..i18n import N_
from .models import Photo


@dataclass(frozen=True)
class PhotoAccess:
    read: bool
    #: may see evidence flags (reviewers, the inspector)
    reviewer: bool
    #: may see GPS and the app's capture facts (service managers)
    sensitive: bool
    #: may see capture time and camera (everyone but the outlet side of a mystery visit)
    identity: bool


def photo_access(user: User, photo: Photo) -> PhotoAccess:
    from ..inspections.access import (
        assigned_to,
        can_read,
        can_review,
        sees_identity,
        shopper_notes,
    )

    inspection = photo.inspection
    if photo.rectification_item_id is not None:
        # After-photos follow the rectification item they prove (outlet, reviewers, the
        # original inspector); acceptors see the flags, since they judge the fix.
        from ..rectification.access import can_decide, can_read_item

        item = photo.rectification_item
        read = can_read_item(user, item)
        reviewer = can_decide(user, item) or user.can(Permission.inspections_review, photo.outlet)
        identity = sees_identity(user, inspection) if inspection is not None else True
    elif inspection is not None:
        # a photo of the shopper's notes of a covert visit is as hidden as the notes
        read = (can_read(user, inspection)
                and photo.item_code not in shopper_notes(user, inspection))
        reviewer = can_review(user, inspection) or assigned_to(user, inspection)
        identity = sees_identity(user, inspection)
    else:
        read = user.can(Permission.inspections_read, photo.outlet)
        reviewer = user.can(Permission.inspections_review, photo.outlet)
        identity = True
    sensitive = user.can(Permission.sensitive_read, photo.outlet)
    return PhotoAccess(read=read, reviewer=reviewer and read, sensitive=sensitive and read,
                       identity=identity)


def get_photo(photo_id: int, user: User) -> Photo:
    photo = db.session.get(Photo, photo_id)
    if photo is None or not photo_access(user, photo).read:
        raise NotFound(N_("未找到该照片"), code="photo_not_found")
    return photo
