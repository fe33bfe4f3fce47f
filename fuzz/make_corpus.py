#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of every harness under fuzz/corpus/ (small valid and near-valid files).

Run from anywhere with numpy installed: python3 fuzz/make_corpus.py. The output is deterministic (fixed
values, fixed ZIP timestamps, gzip without a file name or time), so re-running it gives the same bytes.
"""
import gzip
import io
import json
import pathlib
import struct
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "tests" / "io" / "data"


def put(harness, name, data):
    path = ROOT / harness / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return out.getvalue()


def npy(array, fortran=False):
    out = io.BytesIO()
    np.save(out, np.asfortranarray(array) if fortran else array)
    return out.getvalue()


def zip_of(members, compression=zipfile.ZIP_STORED, force_zip64=False):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
    return out.getvalue()


def net_arrays(d=2, k=3, dtype="<f8"):
    W1 = (np.arange(k * d, dtype=np.float64).reshape(k, d) - 2.5) / 4
    b1 = np.linspace(-1, 1, k)
    w2 = np.array([0.5, -1.25, 2.0][:k] + [0.1] * max(0, k - 3))
    b2 = np.float64(0.75)
    return {n: np.asarray(a, dtype=dtype) for n, a in (("W1", W1), ("b1", b1), ("w2", w2), ("b2", b2))}


# CSV data sets
put("csv", "d1.csv", "x,y\n0.5,1.25\n-1,2e-3\n")
put("csv", "d2_clean.csv", "x1,x2,y,y_clean\n1,2,3,3.1\n4,5,6,6.1\n")
put("csv", "crlf_bom.csv", "\ufeffx,y\r\n 1 , 2 \r\n3,4\r\n\r\n")
put("csv", "bad_field.csv", "x,y\n1,abc\n")
put("csv", "nan.csv", "x,y\n1,nan\n")
put("csv", "short_row.csv", "x1,x2,y\n1,2\n")

# Network JSON
net = {"format": "relustab-net", "version": 1, "input_dim": 2, "width": 2,
       "W1": [[1.0, -0.5], [0.25, 2.0]], "b1": [0.0, -1.0], "w2": [1.5, -0.75], "b2": 0.125,
       "activation": "relu", "meta": {"note": "seed"}}
put("net_json", "net.json", json.dumps(net))
put("net_json", "gelu.json", json.dumps({**net, "activation": "gelu", "meta": {}}))
put("net_json", "no_activation.json", json.dumps({k: v for k, v in net.items() if k not in ("activation", "meta")}))
put("net_json", "wrong_row.json", json.dumps({**net, "W1": [[1.0], [0.25, 2.0]]}))
put("net_json", "width_mismatch.json", json.dumps({**net, "width": 3}))
put("net_json", "denormal.json", json.dumps({**net, "b2": 5e-324, "b1": [1.7976931348623157e308, -0.0]}))

# Network .npz
for name in ("net_savez_compressed.npz", "net_savez_streamed.npz"):
    put("net_npz", name, (FIXTURES / name).read_bytes())
arrays = net_arrays()
put("net_npz", "stored.npz", zip_of([(n + ".npy", npy(a)) for n, a in arrays.items()]))
put("net_npz", "deflated_f4_be.npz",
    zip_of([(n + ".npy", npy(a.astype(">f4"))) for n, a in arrays.items()], zipfile.ZIP_DEFLATED))
put("net_npz", "fortran_zip64.npz",
    zip_of([(n + ".npy", npy(a, fortran=True)) for n, a in arrays.items()], force_zip64=True))
put("net_npz", "b2_shape1.npz",
    zip_of([(n + ".npy", npy(a.reshape(1) if n == "b2" else a)) for n, a in arrays.items()]))
put("net_npz", "missing_w2.npz", zip_of([(n + ".npy", npy(a)) for n, a in arrays.items() if n != "w2"]))

# ZIP containers
put("zip", "stored.zip", zip_of([("a.txt", b"hello"), ("dir/b.bin", bytes(range(40)))]))
put("zip", "deflated.zip", zip_of([("a.npy", npy(np.zeros(8)))], zipfile.ZIP_DEFLATED))
put("zip", "zip64.zip", zip_of([("x", b"abc" * 10)], force_zip64=True))
put("zip", "empty_member.zip", zip_of([("empty", b"")]))
put("zip", "streamed.zip", (FIXTURES / "net_savez_streamed.npz").read_bytes())
put("zip", "empty.zip", zip_of([]))

# .npy arrays
put("npy", "f8_2d.npy", npy(np.arange(6, dtype="<f8").reshape(2, 3)))
put("npy", "f4_be.npy", npy(np.array([1.5, -2.0, 3.25], dtype=">f4")))
put("npy", "scalar.npy", npy(np.float64(2.5)))
put("npy", "fortran.npy", npy(np.arange(6, dtype="<f8").reshape(3, 2), fortran=True))
put("npy", "empty.npy", npy(np.zeros((0, 3))))
put("npy", "int.npy", npy(np.arange(3, dtype="<i8")))
v2 = io.BytesIO()
np.lib.format.write_array(v2, np.arange(3, dtype="<f8"), version=(2, 0))
put("npy", "v2.npy", v2.getvalue())


# IDX images and labels
def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


images = idx(0x08, [2, 3, 3], bytes(range(0, 255, 14))[:18])
put("idx", "images.idx3", images)
put("idx", "images.idx3.gz", gz(images))
put("idx", "labels_u8.idx1", idx(0x08, [4], bytes([0, 9, 3, 7])))
put("idx", "labels_i32.idx1", idx(0x0C, [2], struct.pack(">ii", 5, 1)))
put("idx", "labels_i16_negative.idx1", idx(0x0B, [2], struct.pack(">hh", 5, -1)))
put("idx", "float64.idx2", idx(0x0E, [2, 2], struct.pack(">4d", 0.5, -1.0, 2.0, 1e300)))
put("idx", "float32_nan.idx1", idx(0x0D, [1], struct.pack(">f", float("nan"))))
put("idx", "truncated.idx3", images[:-3])
put("idx", "zero_dim.idx2", idx(0x08, [0, 5], b""))

# scikit-learn digits CSV
row = lambda pixel, label: ",".join([str(pixel)] * 64 + [str(label)])
digits = "\n".join(row(p, l) for p, l in ((0, 0), (16, 9), (7, 3))) + "\n"
put("digits_csv", "digits.csv", digits)
put("digits_csv", "digits.csv.gz", gz(digits))
put("digits_csv", "pixel_17.csv", row(17, 1) + "\n")
put("digits_csv", "label_10.csv", row(1, 10) + "\n")
put("digits_csv", "short.csv", ",".join(["1"] * 10) + "\n")
put("digits_csv", "float.csv", row(1, 2).replace("1,", "1.0,", 1) + "\n")

# TOML experiment files (the harness skips inputs with '/' or \u escapes: none here)
put("toml", "w1_eta_sweep.toml",
    (pathlib.Path(__file__).resolve().parent.parent / "experiments" / "examples" / "w1_eta_sweep.toml")
    .read_text().replace("/", " "))
put("toml", "minimal.toml", 'name = "m"\n[model]\nwidth = 4\n')
put("toml", "include.toml", 'include = "base.toml"\n[optim]\neta = 0.5\n[sweep]\nseeds = [3]\n')
put("toml", "cycle.toml", 'include = "loop.toml"\n')
put("toml", "ranges.toml",
    '[sweep]\n"optim.eta" = { linear = [0.1, 0.5], num = 3 }\n"model.width" = { log = [2, 64], num = 4 }\n'
    'optim.max_steps = { start = 10, count = 2 }\n')
put("toml", "lists.toml", '[data]\ntarget = "sin3"\nfile = "data.csv"\n[sweep]\n"data.noise" = [0.0, 0.1]\n'
    '"measure.log_sharpness" = [true, false]\n"model.init" = ["torch", "he"]\n')
put("toml", "unknown_key.toml", '[model]\nwidht = 3\n')
put("toml", "wrong_type.toml", '[optim]\neta = "fast"\n')
put("toml", "syntax.toml", '[model\nwidth = 3\n')
