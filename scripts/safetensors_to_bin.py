"""Writes a model folder's model.safetensors again as pytorch_model.bin (torch.save), for the loader tests.

Usage: /usr/bin/python3 scripts/safetensors_to_bin.py SRC_FOLDER DST_FOLDER   (needs python3-torch; float32 only)
Copies config.json; the tensors keep their names, shapes and values.
"""
import json
import os
import shutil
import struct
import sys

import torch


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    with open(os.path.join(src, "model.safetensors"), "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    state = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        values = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        state[name] = values.reshape(entry["shape"]).clone()
    torch.save(state, os.path.join(dst, "pytorch_model.bin"))


if __name__ == "__main__":
    main()
