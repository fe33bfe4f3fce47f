# SPDX-License-Identifier: MIT
"""Writes the numpy-made .npz fixtures that tests/io/test_net_npz.cpp reads (values repeated there).

Run from this directory with any Python that has numpy:  python3 make_fixture.py
  net_savez_compressed.npz  np.savez_compressed: deflated members, zip64 extra fields (numpy forces zip64).
  net_savez_streamed.npz    np.savez into a stream that cannot seek: stored members with data descriptors;
                            W1 float32 in Fortran order, b1 float32, w2 big-endian float64, b2 float32 (1,).
  net_state_dict.npz        a PyTorch state_dict of Sequential(Linear(2, 3), ReLU(), Linear(3, 1)) as
                            np.savez(**{k: v.numpy()}) writes it: 0.weight (3, 2), 0.bias (3,),
                            2.weight (1, 3), 2.bias (1,), float32 (tensors' default dtype).
  net_output_row.npz        W1, b1, w2 of shape (1, k), b2 of shape (1, 1), float64.
  net_state_dict_deep.npz   refused: 0.*, 2.*, 4.* (two hidden layers).
  net_state_dict_two_outputs.npz  refused: 2.weight of shape (2, 3), 2.bias (2,).
  data_savetxt.csv          np.savetxt(..., header="x,y", delimiter=","): the header line is "# x,y".
  data_savetxt_2d.csv       the same with header "x1,x2,y" and three columns.
(test_csv.cpp and test_net_npz.cpp read the last six; the values are repeated there.)
"""
import io
import struct
import zipfile

import numpy as np


class UnseekableFile(io.RawIOBase):
    """A write-only stream without seek(), which makes zipfile write data descriptors (flag bit 3)."""

    def __init__(self, raw):
        self.raw = raw
        self.position = 0

    def writable(self):
        return True

    def write(self, data):
        self.raw.write(data)
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def seekable(self):
        return False

    def seek(self, *args):
        raise OSError("not seekable")

    def flush(self):
        self.raw.flush()


def main():
    W1 = np.array([[0.1, -2.5], [1e-300, 3.0], [-0.7, 12345.678]], dtype=np.float64)
    b1 = np.array([0.3, -0.2, 0.3333333333333333], dtype=np.float64)
    w2 = np.array([1.5, -1e10, 2.2250738585072014e-308], dtype=np.float64)
    b2 = np.float64(-0.125)
    np.savez_compressed("net_savez_compressed.npz", W1=W1, b1=b1, w2=w2, b2=b2)

    W1_f = np.asfortranarray(np.array([[0.1, -2.5], [0.75, 3.0], [-0.7, 100.25]], dtype=np.float32))
    b1_f = np.array([0.3, -0.2, 0.5], dtype=np.float32)
    w2_be = np.array([1.5, -1e10, 0.1], dtype=">f8")
    b2_f = np.array([-0.125], dtype=np.float32)
    with open("net_savez_streamed.npz", "wb") as raw:
        np.savez(UnseekableFile(raw), W1=W1_f, b1=b1_f, w2=w2_be, b2=b2_f)

    # PyTorch's state_dict names (Sequential: layers 0 and 2), float32 as torch stores them.
    f32 = np.float32
    state = {
        "0.weight": np.array([[0.5, -1.25], [2.0, 0.75], [-3.5, 0.125]], dtype=f32),
        "0.bias": np.array([0.25, -0.5, 1.0], dtype=f32),
        "2.weight": np.array([[1.5, -0.25, 0.0625]], dtype=f32),
        "2.bias": np.array([-0.375], dtype=f32),
    }
    np.savez("net_state_dict.npz", **state)
    np.savez("net_output_row.npz", W1=W1, b1=b1, w2=w2.reshape(1, 3), b2=np.array([[-0.125]]))
    deep = dict(state)
    deep["2.weight"] = np.ones((3, 3), dtype=f32)
    deep["2.bias"] = np.zeros(3, dtype=f32)
    deep["4.weight"] = np.ones((1, 3), dtype=f32)
    deep["4.bias"] = np.zeros(1, dtype=f32)
    np.savez("net_state_dict_deep.npz", **deep)
    two = dict(state)
    two["2.weight"] = np.ones((2, 3), dtype=f32)
    two["2.bias"] = np.zeros(2, dtype=f32)
    np.savez("net_state_dict_two_outputs.npz", **two)

    xy = np.array([[-1.0, 0.5], [0.25, -0.125], [0.75, 2.0]])
    np.savetxt("data_savetxt.csv", xy, header="x,y", delimiter=",")
    xxy = np.array([[-1.0, 0.5, 3.0], [0.25, -0.125, -2.5]])
    np.savetxt("data_savetxt_2d.csv", xxy, header="x1,x2,y", delimiter=",")
    with open("data_savetxt.csv") as f:
        assert f.readline() == "# x,y\n"

    # Check that the files exercise what they are meant to.
    with zipfile.ZipFile("net_savez_compressed.npz") as z:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
    with zipfile.ZipFile("net_savez_streamed.npz") as z:
        assert all(i.compress_type == zipfile.ZIP_STORED and i.flag_bits & 0x08 for i in z.infolist())
        assert b"'fortran_order': True" in z.read("W1.npy")
        assert b"'descr': '>f8'" in z.read("w2.npy")
    for name in ("net_savez_compressed.npz", "net_savez_streamed.npz", "net_state_dict.npz"):
        with open(name, "rb") as f:
            data = f.read()
        extra_length = struct.unpack("<H", data[28:30])[0]
        assert extra_length > 0, "numpy's force_zip64 should add a zip64 extra field to local headers"
        loaded = np.load(name)
        print(name, len(data), "bytes:", {k: loaded[k].tolist() for k in loaded.files})


if __name__ == "__main__":
    main()
