"""Bounding-box formats and the box transforms of RandomFlip and Resizing (Keras 3's rules).

Boxes arrive as ``{"boxes": (batch, n, 4) or (n, 4), "labels": (batch, n) or (n,)}`` in one of
Keras's formats; they are converted to ``xyxy`` (pixels) or ``rel_xyxy`` to be transformed, then
back. Boxes are small, so this runs on the host.
"""

import numpy as np

from gpuk.layers.preprocessing.base import host

__all__ = ["FORMATS", "clip_to_image_size", "convert_format"]

FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)


def _split(boxes):
    return boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]


def _to_xyxy(boxes, fmt, height, width):
    a, b, c, d = _split(boxes)
    if fmt == "xyxy":
        out = (a, b, c, d)
    elif fmt == "yxyx":
        out = (b, a, d, c)
    elif fmt == "xywh":
        out = (a, b, a + c, b + d)
    elif fmt == "center_xywh":
        out = (a - c / 2.0, b - d / 2.0, a + c / 2.0, b + d / 2.0)
    elif fmt == "center_yxhw":
        out = (b - d / 2.0, a - c / 2.0, b + d / 2.0, a + c / 2.0)
    elif fmt == "rel_xyxy":
        out = (a * width, b * height, c * width, d * height)
    elif fmt == "rel_yxyx":
        out = (b * width, a * height, d * width, c * height)
    elif fmt == "rel_xywh":
        out = (a * width, b * height, (a + c) * width, (b + d) * height)
    elif fmt == "rel_center_xywh":
        out = (
            (a - c / 2.0) * width,
            (b - d / 2.0) * height,
            (a + c / 2.0) * width,
            (b + d / 2.0) * height,
        )
    else:
        raise ValueError(f"Unknown bounding_box_format {fmt!r}; expected one of {FORMATS}")
    return np.stack(out, axis=-1)


def _from_xyxy(boxes, fmt, height, width):
    x1, y1, x2, y2 = _split(boxes)
    w, h = x2 - x1, y2 - y1
    cx, cy = x1 + w / 2.0, y1 + h / 2.0
    out = {
        "xyxy": (x1, y1, x2, y2),
        "yxyx": (y1, x1, y2, x2),
        "xywh": (x1, y1, w, h),
        "center_xywh": (cx, cy, w, h),
        "center_yxhw": (cy, cx, h, w),
        "rel_xyxy": (x1 / width, y1 / height, x2 / width, y2 / height),
        "rel_yxyx": (y1 / height, x1 / width, y2 / height, x2 / width),
        "rel_xywh": (x1 / width, y1 / height, w / width, h / height),
        "rel_center_xywh": (cx / width, cy / height, w / width, h / height),
    }
    if fmt not in out:
        raise ValueError(f"Unknown bounding_box_format {fmt!r}; expected one of {FORMATS}")
    return np.stack(out[fmt], axis=-1)


def convert_format(bounding_boxes, source, target, height=None, width=None):
    """Convert ``bounding_boxes`` (a dict or an array) between Keras's box formats."""
    if isinstance(bounding_boxes, dict):
        out = dict(bounding_boxes)
        out["boxes"] = convert_format(bounding_boxes["boxes"], source, target, height, width)
        return out
    boxes = host(bounding_boxes).astype(np.float32)
    if source == target:
        return boxes
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width).astype(
        np.float32
    )


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Clip boxes to the image; labels of boxes left with no area become -1 (Keras's rule)."""
    out = dict(bounding_boxes)
    boxes = host(out["boxes"]).astype(np.float32)
    high = (width, height) if bounding_box_format == "xyxy" else (1.0, 1.0)
    x1, y1, x2, y2 = _split(boxes)
    boxes = np.stack(
        [
            np.clip(x1, 0, high[0]),
            np.clip(y1, 0, high[1]),
            np.clip(x2, 0, high[0]),
            np.clip(y2, 0, high[1]),
        ],
        axis=-1,
    )
    out["boxes"] = boxes
    if out.get("labels") is not None:
        area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
        out["labels"] = np.where(area > 0, host(out["labels"]), -1)
    return out


def flip_boxes(bounding_boxes, flips, mode, fmt, height, width):
    """RandomFlip's box transform: flip in relative coordinates, clip, convert back."""
    boxes = convert_format(bounding_boxes, fmt, "rel_xyxy", height, width)
    b = boxes["boxes"]
    flips = np.asarray(flips).reshape((-1,) + (1,) * (b.ndim - 1))
    if mode in ("horizontal", "horizontal_and_vertical"):
        x1, y1, x2, y2 = _split(b)
        b = np.where(flips, np.stack([1 - x2, y1, 1 - x1, y2], -1), b)
    if mode in ("vertical", "horizontal_and_vertical"):
        x1, y1, x2, y2 = _split(b)
        b = np.where(flips, np.stack([x1, 1 - y2, x2, 1 - y1], -1), b)
    boxes["boxes"] = b
    boxes = clip_to_image_size(boxes, height, width, "xyxy")
    return convert_format(boxes, "rel_xyxy", fmt, height, width)


def resize_boxes(bounding_boxes, layer, fmt, height, width):
    """Resizing's box transform (stretch, crop or pad to the aspect ratio)."""
    original = host(bounding_boxes["boxes"]).astype(np.float32)
    empty = np.all(original == -1, axis=-1) | np.all(original == 0, axis=-1)
    boxes = convert_format(bounding_boxes, fmt, "xyxy", height, width)
    b = boxes["boxes"]
    x1, y1, x2, y2 = _split(b)
    if layer.pad_to_aspect_ratio:
        ratio = min(layer.height / height, layer.width / width)
        dy = (layer.height - height * ratio) // 2
        dx = (layer.width - width * ratio) // 2
        b = np.stack([x1 * ratio + dx, y1 * ratio + dy, x2 * ratio + dx, y2 * ratio + dy], -1)
    elif layer.crop_to_aspect_ratio:
        source, target = width / height, layer.width / layer.height
        new_w = layer.height * source if source > target else layer.width
        new_h = layer.height if source > target else layer.width / source
        sx, sy = new_w / width, new_h / height
        left, top = (new_w - layer.width) // 2, (new_h - layer.height) // 2
        b = np.stack([x1 * sx - left, y1 * sy - top, x2 * sx - left, y2 * sy - top], -1)
    else:
        sx, sy = layer.width / width, layer.height / height
        b = np.stack([x1 * sx, y1 * sy, x2 * sx, y2 * sy], -1)
    boxes["boxes"] = b.astype(np.float32)
    boxes = clip_to_image_size(boxes, layer.height, layer.width)
    boxes["boxes"] = np.where(empty[..., None], 0.0, boxes["boxes"]).astype(np.float32)
    return convert_format(boxes, "xyxy", fmt, layer.height, layer.width)


def center_crop_boxes(bounding_boxes, layer, fmt, height, width):
    """CenterCrop's box transform: clip to the kept window (after the aspect crop and resize
    when the input is smaller than the target), shift, clip, convert back."""
    boxes = convert_format(bounding_boxes, fmt, "xyxy", height, width)

    def clipped(b, top, bottom, left, right):
        x1, y1, x2, y2 = _split(b)
        return np.stack(
            [
                np.clip(x1, left, right) - left,
                np.clip(y1, top, bottom) - top,
                np.clip(x2, left, right) - left,
                np.clip(y2, top, bottom) - top,
            ],
            axis=-1,
        )

    if height >= layer.height and width >= layer.width:
        top, left = int((height - layer.height) / 2), int((width - layer.width) / 2)
        boxes["boxes"] = clipped(boxes["boxes"], top, top + layer.height, left, left + layer.width)
    else:
        crop_h = max(min(height, int(float(width * layer.height) / layer.width)), 1)
        crop_w = max(min(width, int(float(height * layer.width) / layer.height)), 1)
        top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
        b = clipped(boxes["boxes"], top, top + crop_h, left, left + crop_w)
        boxes["boxes"] = b * np.array(
            [layer.width / crop_w, layer.height / crop_h] * 2, dtype=np.float32
        )
    boxes = clip_to_image_size(boxes, layer.height, layer.width)
    return convert_format(boxes, "xyxy", fmt, layer.height, layer.width)


def _per_batch(values, boxes):
    """``(N,)`` per-image values shaped to broadcast against ``boxes[..., 0]``."""
    values = np.asarray(values, np.float32).reshape(-1)
    return values.reshape((-1,) + (1,) * (boxes.ndim - 2)) if boxes.ndim > 2 else values[0]


def translate_boxes(bounding_boxes, translations, fmt, height, width):
    """RandomTranslation's box transform: shift by the translation, clip, convert back."""
    boxes = convert_format(bounding_boxes, fmt, "xyxy", height, width)
    b = boxes["boxes"]
    t = np.asarray(translations, np.float32).reshape(-1, 2)
    dx, dy = _per_batch(t[:, 0], b), _per_batch(t[:, 1], b)
    x1, y1, x2, y2 = _split(b)
    boxes["boxes"] = np.stack([x1 + dx, y1 + dy, x2 + dx, y2 + dy], axis=-1)
    boxes = clip_to_image_size(boxes, height, width)
    return convert_format(boxes, "xyxy", fmt, height, width)


def zoom_boxes(bounding_boxes, width_zoom, height_zoom, fmt, height, width):
    """RandomZoom's box transform: keep the sampled window, rescale it to the image."""
    boxes = convert_format(bounding_boxes, fmt, "xyxy", height, width)
    b = boxes["boxes"]
    zx = np.asarray(width_zoom, np.float32).reshape(-1)
    zy = np.asarray(height_zoom, np.float32).reshape(-1)
    w_start = (width - 1.0) / 2.0 * (1.0 - zx)
    h_start = (height - 1.0) / 2.0 * (1.0 - zy)
    w_end, h_end = zx * width + w_start, zy * height + h_start
    ws, we, hs, he = (_per_batch(v, b) for v in (w_start, w_end, h_start, h_end))
    x1, y1, x2, y2 = _split(b)
    b = np.stack(
        [
            np.clip(x1, ws, we) - ws,
            np.clip(y1, hs, he) - hs,
            np.clip(x2, ws, we) - ws,
            np.clip(y2, hs, he) - hs,
        ],
        axis=-1,
    )
    wt, ht = we - ws, he - hs
    boxes["boxes"] = np.stack([b[..., 0] / wt, b[..., 1] / ht, b[..., 2] / wt, b[..., 3] / ht], -1)
    boxes = clip_to_image_size(boxes, bounding_box_format="rel_xyxy")
    return convert_format(boxes, "rel_xyxy", fmt, height, width)


def rotate_boxes(bounding_boxes, angle, fmt, height, width):
    """RandomRotation's box transform (Keras's: the rotated corners' enclosing box, clipped).

    As in Keras 3.15 the incoming boxes are read as ``xyxy`` pixels; the result is converted
    from ``xyxy`` to ``fmt``.
    """
    out = dict(bounding_boxes)
    boxes = host(out["boxes"]).astype(np.float32)
    # Keras's inverse affine matrix negates the angle: the boxes turn with the image content.
    rot = -np.asarray(angle, np.float32).reshape(-1) * np.float32(np.pi / 180.0)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = np.cos(rot), np.sin(rot)
    a0, a1, b0, b1 = cos, -sin, sin, cos
    a2 = cx - a0 * cx - a1 * cy
    b2 = cy - b0 * cx - b1 * cy
    shape = (-1,) + (1,) * (boxes.ndim - 1)
    a0, a1, a2, b0, b1, b2 = (v.reshape(shape) for v in (a0, a1, a2, b0, b1, b2))
    x1, y1, x2, y2 = (boxes[..., i : i + 1] for i in range(4))
    xs = np.concatenate([x1, x2, x2, x1], axis=-1)
    ys = np.concatenate([y1, y1, y2, y2], axis=-1)
    tx = a0 * xs + a1 * ys + a2
    ty = b0 * xs + b1 * ys + b2
    out["boxes"] = np.stack([tx.min(-1), ty.min(-1), tx.max(-1), ty.max(-1)], axis=-1)
    out = clip_to_image_size(out, height, width)
    return convert_format(out, "xyxy", fmt, height, width)
