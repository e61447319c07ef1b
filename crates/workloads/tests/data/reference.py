"""Reference outputs for crates/workloads/tests/data_files.rs, computed with
the packages MLPerf's reference harness uses (opencv-python-headless, numpy;
installed by .ci/setup-data-python.sh).

    python reference.py images OUT_DIR IMAGE...   # pre_process_vgg of each image -> OUT_DIR/<name>.npy
    python reference.py arrays OUT_DIR            # .npy/.npz files of several kinds

The image steps follow mlcommons/inference
vision/classification_and_detection/python/dataset.py (pre_process_vgg with
need_transpose=True: BGR->RGB, INTER_AREA resize of the shorter side to
int(100 * 224 / 87.5), centre crop 224, float32 minus the ImageNet means,
HWC->CHW), written here from that description.
"""
import os
import sys

import cv2
import numpy as np

CROP = 224
MEANS = np.array([123.68, 116.78, 103.94], dtype=np.float32)


def resized(img):
    height, width, _ = img.shape
    side = int(100.0 * CROP / 87.5)
    if height > width:
        w, h = side, int(side * height / width)
    else:
        h, w = side, int(side * width / height)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def cropped(img):
    height, width, _ = img.shape
    left, right = int((width - CROP) / 2), int((width + CROP) / 2)
    top, bottom = int((height - CROP) / 2), int((height + CROP) / 2)
    return img[top:bottom, left:right]


def preprocess(path):
    img = cv2.imread(path)
    if img is None:
        raise SystemExit(f"cv2 cannot read {path}")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    img = np.asarray(cropped(resized(img)), dtype="float32")
    img -= MEANS
    return img.transpose([2, 0, 1])


def images(out, paths):
    for p in paths:
        name = os.path.splitext(os.path.basename(p))[0]
        np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(preprocess(p)))
        # The decoded pixels too, to tell decoding apart from preprocessing.
        rgb = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
        np.save(os.path.join(out, name + ".rgb.npy"), rgb)


def arrays(out):
    x = (np.arange(5 * 2 * 3, dtype=np.float32) * 0.5 - 3).reshape(5, 2, 3)
    np.save(os.path.join(out, "f32.npy"), x)
    np.save(os.path.join(out, "f32_big.npy"), x.astype(">f4"))
    np.save(os.path.join(out, "f32_fortran.npy"), np.asfortranarray(x))
    np.save(os.path.join(out, "i64.npy"), np.arange(5 * 4, dtype=np.int64).reshape(5, 4) - 7)
    np.save(os.path.join(out, "u8.npy"), np.arange(5 * 3, dtype=np.uint8).reshape(5, 3))
    np.save(os.path.join(out, "bool.npy"), np.array([[True, False]] * 5))
    np.save(os.path.join(out, "labels.npy"), np.array([3, 1, 4, 1, 5], dtype=np.int32))
    np.save(os.path.join(out, "u16.npy"), np.zeros((5, 2), dtype=np.uint16))
    ids = np.arange(5 * 4, dtype=np.int64).reshape(5, 4)
    mask = np.ones((5, 4), dtype=np.int64)
    np.savez(os.path.join(out, "stored.npz"), input_ids=ids, attention_mask=mask)
    np.savez_compressed(os.path.join(out, "compressed.npz"), input_ids=ids, attention_mask=mask)


if __name__ == "__main__":
    if sys.argv[1] == "images":
        images(sys.argv[2], sys.argv[3:])
    else:
        arrays(sys.argv[2])
