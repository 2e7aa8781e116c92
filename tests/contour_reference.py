"""A plain, loop-by-loop reference of the CASIA-B contour codec, and the golden vectors it writes.

It follows the definition in gaitanon_core/shape/codec.py step by step without
its vectorised shortcuts, so the two can check each other; the golden vectors
in tests/golden/contours_*.json pin both down. Regenerate them (only after a
deliberate change of the layout, which then needs a new LAYOUT name) with
`python -m tests.contour_reference`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

GOLDEN_DIR = Path(__file__).parent / "golden"
SEGMENTS = (44, 36, 22, 26, 26, 22, 36, 44)  # anchored-v2 at N = 256


def reference_encode(frame: np.ndarray) -> list[tuple[float, float]]:
    """One 64x64 CASIA-B frame -> 256 canonical (x, y) points in the anchored-v2 layout."""
    outline = [((col - 32) / 64, row / 64) for col, row in outer_outline(largest_part(frame))]
    outline = start_at_top(counter_clockwise(outline))
    return resample(outline, anchors(outline))


def largest_part(frame: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(frame, structure=np.ones((3, 3)))  # 8-connected
    sizes = [int((labels == k).sum()) for k in range(1, count + 1)]
    return labels == 1 + sizes.index(max(sizes))


def outer_outline(part: np.ndarray) -> list[tuple[float, float]]:
    """Pixel coordinates of the outline traced on the part enlarged 2x: a quarter pixel outside the centres."""
    enlarged = np.repeat(np.repeat(part.astype(np.uint8), 2, axis=0), 2, axis=1)
    contours, _ = cv2.findContours(enlarged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return [(p[0][0] / 2 - 0.25, p[0][1] / 2 - 0.25) for p in contours[0]]


def counter_clockwise(outline: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Counter-clockwise on screen (y down) is a negative shoelace sum."""
    twice_area = 0.0
    for (x1, y1), (x2, y2) in zip(outline, outline[1:] + outline[:1]):
        twice_area += x1 * y2 - x2 * y1
    return outline[::-1] if twice_area > 0 else outline


def start_at_top(outline: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Start at the topmost point nearest x = 0; on a top edge that crosses x = 0, exactly there."""
    top = min(y for _, y in outline)
    best = None
    for i, (x, y) in enumerate(outline):
        if y == top and (best is None or abs(x) < abs(outline[best][0])):
            best = i
    n = len(outline)
    for before in (best, best - 1):
        (xa, ya), (xb, yb) = outline[before % n], outline[(before + 1) % n]
        if ya == top and yb == top and xa * xb < 0:
            outline = outline[: before + 1] + [(0.0, top)] + outline[before + 1 :]
            best = before + 1
            break
    return outline[best:] + outline[:best]


def anchors(outline: list[tuple[float, float]]) -> list[float]:
    """head top, left reach, left knee, left foot, crotch, right foot, right knee, right reach, end."""
    xs = [x for x, _ in outline]
    ys = [y for _, y in outline]
    height = max(ys) - ys[0]
    band = [i for i, y in enumerate(ys) if y >= max(ys) - 0.10 * height]
    # ties: on the left the last tied point wins, on the right the first
    left = max(band, key=lambda i: (ys[i] - 0.5 * xs[i], i))
    right = max(band, key=lambda i: (ys[i] + 0.5 * xs[i], -i))
    left, right = min(left, right), max(left, right)
    highest = min(ys[left : right + 1])
    middle = (right - left) / 2
    near_top = [i - left for i in range(left, right + 1) if ys[i] <= highest + 0.02 * height]
    closest = min(abs(j - middle) for j in near_top)
    tied = [j for j in near_top if abs(j - middle) <= closest + 1e-9]
    crotch = left + sum(tied) / len(tied)  # tied on both sides of the middle: the middle
    knee = ys[0] + 0.75 * height
    left_knee = max(i for i in range(left + 1) if ys[i] <= knee)
    right_knee = next((i for i in range(right, len(outline)) if ys[i] <= knee), len(outline))
    low, high = ys[0] + 0.20 * height, ys[0] + 0.65 * height
    left_side = [i for i in range(left_knee + 1) if low <= ys[i] <= high]
    right_side = [i for i in range(right_knee, len(outline)) if low <= ys[i] <= high]
    left_reach = max(left_side, key=lambda i: (-xs[i], i)) if left_side else left_knee
    right_reach = max(right_side, key=lambda i: (xs[i], -i)) if right_side else right_knee
    return [0, left_reach, left_knee, left, crotch, right, right_knee, right_reach, len(outline)]


def resample(outline: list[tuple[float, float]], cuts: list[float]) -> list[tuple[float, float]]:
    closed = outline + outline[:1]
    arc = [0.0]
    for (x1, y1), (x2, y2) in zip(closed, closed[1:]):
        arc.append(arc[-1] + math.hypot(x2 - x1, y2 - y1))
    points = []
    for piece, count in enumerate(SEGMENTS):
        start, end = arc_at(arc, cuts[piece]), arc_at(arc, cuts[piece + 1])
        for j in range(count):
            points.append(point_at(closed, arc, start + (end - start) * j / count))
    return points


def arc_at(arc: list[float], index: float) -> float:
    """Arc length at a fractional outline index (the crotch may sit between two points)."""
    whole = int(index)
    if whole == index:
        return arc[whole]
    return arc[whole] + (index - whole) * (arc[whole + 1] - arc[whole])


def point_at(closed: list[tuple[float, float]], arc: list[float], s: float) -> tuple[float, float]:
    """The point at arc length s along the closed outline (the first edge that reaches it)."""
    for i in range(len(closed) - 1):
        if arc[i + 1] >= s and arc[i + 1] > arc[i]:
            t = (s - arc[i]) / (arc[i + 1] - arc[i])
            (x1, y1), (x2, y2) = closed[i], closed[i + 1]
            return (x1 + t * (x2 - x1), y1 + t * (y2 - y1))
    return closed[0]  # a single-pixel outline has no length


def reference_self_intersects(points: list[tuple[float, float]]) -> bool:
    """Any two edges that share no corner cross strictly (each one's ends on opposite sides of the other)."""
    n = len(points)
    edges = [(points[k], points[(k + 1) % n]) for k in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing corner
            if straddles(edges[i], edges[j]) and straddles(edges[j], edges[i]):
                return True
    return False


def straddles(line: tuple, edge: tuple) -> bool:
    (ax, ay), (bx, by) = line
    sides = [(bx - ax) * (cy - ay) - (by - ay) * (cx - ax) for cx, cy in edge]
    return (sides[0] > 1e-12 and sides[1] < -1e-12) or (sides[0] < -1e-12 and sides[1] > 1e-12)


# --- the golden masks --------------------------------------------------------------------------------


def golden_masks() -> dict[str, np.ndarray]:
    """Small synthetic 64x64 masks that exercise each rule of the codec."""
    ellipse = np.zeros((64, 64), np.uint8)
    cv2.ellipse(ellipse, (32, 32), (12, 31), 0, 0, 360, 1, -1)

    stick = np.zeros((64, 64), np.uint8)
    cv2.circle(stick, (32, 6), 6, 1, -1)  # head
    cv2.line(stick, (32, 12), (31, 36), 1, 5)  # trunk
    cv2.line(stick, (31, 16), (20, 32), 1, 2)  # back arm
    cv2.line(stick, (32, 16), (44, 28), 1, 2)  # front arm
    cv2.line(stick, (31, 36), (22, 62), 1, 3)  # back leg
    cv2.line(stick, (31, 36), (42, 62), 1, 3)  # front leg

    two_blobs = np.zeros((64, 64), np.uint8)
    cv2.rectangle(two_blobs, (24, 2), (40, 63), 1, -1)
    cv2.circle(two_blobs, (52, 40), 5, 1, -1)  # a detached bag: not the largest part

    hole = np.zeros((64, 64), np.uint8)
    cv2.ellipse(hole, (32, 32), (14, 31), 0, 0, 360, 1, -1)
    cv2.circle(hole, (32, 30), 6, 0, -1)  # the gap between arm and body: ignored
    return {name: mask.astype(bool) for name, mask in
            {"ellipse": ellipse, "stick_figure": stick, "two_blobs": two_blobs, "hole": hole}.items()}


def mask_rows(mask: np.ndarray) -> list[str]:
    return ["".join("#" if v else "." for v in row) for row in mask]


def mask_from_rows(rows: list[str]) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


def write_golden() -> None:
    GOLDEN_DIR.mkdir(exist_ok=True)
    for name, mask in golden_masks().items():
        record = {
            "layout": "anchored-v2",
            "n": sum(SEGMENTS),
            "frame": "casiab64: x = (col - 32) / 64, y = row / 64",
            "mask": mask_rows(mask),
            "points": [[round(x, 6), round(y, 6)] for x, y in reference_encode(mask)],
        }
        (GOLDEN_DIR / f"contours_{name}.json").write_text(one_item_per_line(record))


def one_item_per_line(record: dict) -> str:
    """JSON with one mask row or one point per line, so a changed vector shows in a diff."""
    fields = []
    for key, value in record.items():
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(v) for v in value)
            fields.append(f'"{key}": [\n{items}\n]')
        else:
            fields.append(f"{json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


if __name__ == "__main__":
    write_golden()
