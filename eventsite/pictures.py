"""Uploaded pictures (event covers, profile pictures): checked, resized, stored.

An upload is never served as it came: Pillow opens it (refusing what is not a
picture, too large a file, or a decompression bomb), turns it upright by its
EXIF orientation, and writes one JPEG per size the pages use, cropped to that
size's shape. Only those renditions are stored, through Django's default
storage (local files under ``var/media/`` unless ``STORAGE_BACKEND`` names
another backend), so the original's metadata (a phone's GPS position) never
reaches a visitor. Each set of renditions gets a fresh random name: a changed
picture is a new address, and the old one can be cached for ever.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a phone photo is 2-6 MB
MAX_PIXELS = 50_000_000  # above this Pillow's own bomb check is too lenient for a web form
MIN_SIDE = 200  # smaller than the smallest rendition looks blurred everywhere
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
JPEG_QUALITY = 82  # visually lossless at these sizes, a third of quality 95's bytes


@dataclass(frozen=True)
class Size:
    """One rendition: its name in the stored file's name, and its box in pixels."""

    name: str
    width: int
    height: int


def open_picture(upload) -> Image.Image:
    """The upload as an upright RGB picture, or ValidationError saying what is wrong."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            "That picture is %(size)s MB; the largest accepted is %(limit)s MB.",
            code="too_large",
            params={"size": round(upload.size / 2**20, 1), "limit": MAX_UPLOAD_BYTES // 2**20},
        )
    upload.seek(0)
    try:
        with Image.open(upload) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in ACCEPTED_FORMATS:
                raise UnidentifiedImageError(kind)
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    "That picture is %(width)s by %(height)s pixels; the most accepted is "
                    "%(mp)s megapixels.",
                    code="too_many_pixels",
                    params={"width": width, "height": height, "mp": MAX_PIXELS // 1_000_000},
                )
            probe.load()  # a truncated or corrupt file fails here, not half-way through a resize
            picture = ImageOps.exif_transpose(probe).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(
            "That file is not a picture this site can read: upload a JPEG, PNG, WebP or GIF.",
            code="not_a_picture",
        ) from None
    if min(picture.size) < MIN_SIDE:
        raise ValidationError(
            "That picture is %(width)s by %(height)s pixels; "
            "it needs at least %(min)s on each side.",
            code="too_small",
            params={"width": picture.width, "height": picture.height, "min": MIN_SIDE},
        )
    return picture


def store_renditions(picture: Image.Image, *, folder: str, sizes: tuple[Size, ...]) -> str:
    """Write one JPEG per size under ``folder``; the key to find them again.

    The key is what a model keeps (see ``rendition_url``); nothing is stored
    when the picture fails to encode.
    """
    key = f"{folder}/{secrets.token_urlsafe(9)}"
    encoded = {size.name: _encode(picture, size) for size in sizes}
    for name, data in encoded.items():
        default_storage.save(f"{key}-{name}.jpg", ContentFile(data))
    return key


def rendition_url(key: str, size: Size) -> str:
    return default_storage.url(f"{key}-{size.name}.jpg")


def delete_renditions(key: str, sizes: tuple[Size, ...]) -> None:
    for size in sizes:
        default_storage.delete(f"{key}-{size.name}.jpg")


def rendition_urls(key: str, sizes: tuple[Size, ...]) -> Mapping[str, str]:
    return {size.name: rendition_url(key, size) for size in sizes}


def _encode(picture: Image.Image, size: Size) -> bytes:
    fitted = ImageOps.fit(picture, (size.width, size.height), Image.Resampling.LANCZOS)
    out = BytesIO()
    fitted.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
