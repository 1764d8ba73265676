"""
Zeroes every GPU kernel image in a CUDA library's fat binary but those for sm_90 (H100, H200), so
the library compresses to what one call to a lent GPU machine can carry (models/gpu-onnx.sh).
The fat binary's layout is kept (each image's header stays; only its payload becomes zeros), and
the driver loads the sm_90 image it picks on those cards; the result runs on no other GPU.

    python3 models/cuda_sm90_only.py LIBRARY OUT
"""
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50
CUBIN = 2  # an image's kind: 1 PTX, 2 cubin


def fatbin_section(path):
    """(file offset, size) of the .nv_fatbin section, from readelf."""
    for line in subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout.splitlines():
        fields = line.replace("[ ", "[").split()
        if ".nv_fatbin" in fields:
            at = fields.index(".nv_fatbin")
            return int(fields[at + 3], 16), int(fields[at + 4], 16)
    raise SystemExit(f"{path}: no .nv_fatbin section")


def keep_sm90(data, offset, size):
    """Zeroes non-sm_90 cubins in place; returns {arch: bytes} of the images seen."""
    seen, at, end = {}, offset, offset + size
    while at < end:
        magic, _, header, fat = struct.unpack_from("<IHHQ", data, at)
        if magic != FATBIN_MAGIC:  # alignment padding between fat binaries
            at += 8
            continue
        image, last = at + header, at + header + fat
        while image < last:
            kind, _, image_header, payload = struct.unpack_from("<HHIQ", data, image)
            arch = struct.unpack_from("<I", data, image + 28)[0]
            seen[arch] = seen.get(arch, 0) + payload
            if kind == CUBIN and arch != 90:
                start = image + image_header
                data[start : start + payload] = bytes(payload)
            image += image_header + payload
        at = last
    return seen


def main():
    source, target = sys.argv[1:3]
    data = bytearray(open(source, "rb").read())
    seen = keep_sm90(data, *fatbin_section(source))
    if 90 not in seen:
        raise SystemExit(f"{source}: no sm_90 images (archs {sorted(seen)})")
    open(target, "wb").write(data)
    print(", ".join(f"sm_{a}: {n / 1e6:.1f} MB" for a, n in sorted(seen.items())), "— kept sm_90")


if __name__ == "__main__":
    main()
