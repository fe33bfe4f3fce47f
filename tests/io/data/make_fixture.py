# SPDX-License-Identifier: MIT
"""Writes the numpy-made .npz fixtures that tests/io/test_net_npz.cpp reads (values repeated there).

Run from this directory with any Python that has numpy:  python3 make_fixture.py
  net_savez_compressed.npz  np.savez_compressed: deflated members, zip64 extra fields (numpy forces zip64).
  net_savez_streamed.npz    np.savez into a stream that cannot seek: stored members with data descriptors;
                            W1 float32 in Fortran order, b1 float32, w2 big-endian float64, b2 float32 (1,).
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

    # Check that the files exercise what they are meant to.
    with zipfile.ZipFile("net_savez_compressed.npz") as z:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
    with zipfile.ZipFile("net_savez_streamed.npz") as z:
        assert all(i.compress_type == zipfile.ZIP_STORED and i.flag_bits & 0x08 for i in z.infolist())
        assert b"'fortran_order': True" in z.read("W1.npy")
        assert b"'descr': '>f8'" in z.read("w2.npy")
    for name in ("net_savez_compressed.npz", "net_savez_streamed.npz"):
        with open(name, "rb") as f:
            data = f.read()
        extra_length = struct.unpack("<H", data[28:30])[0]
        assert extra_length > 0, "numpy's force_zip64 should add a zip64 extra field to local headers"
        loaded = np.load(name)
        print(name, len(data), "bytes:", {k: loaded[k].tolist() for k in loaded.files})


if __name__ == "__main__":
    main()
