#!/usr/bin/env python3
"""Which functions of BINARY are in the page cache, as an lld symbol ordering file.

Used by link/profile.sh: the binary sits on a filesystem without readahead and was evicted
from the page cache before the profiled commands ran, so a resident text page is a page some
command executed (fault-around maps only pages already cached, so it adds none). Built with
every function aligned to a page, a resident page names one function. The names come from
lld's map of the link (MAP): the binary is stripped like the product, whose symbol names it
must share.
  hot_symbols.py BINARY MAP > link/hot-symbols.txt
"""
import ctypes
import os
import subprocess
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_pages(path):
    """File offsets (page-aligned) of the pages of PATH in the page cache, by mincore(2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    addr = libc.mmap(None, size, 1, 2, fd, 0)  # PROT_READ, MAP_PRIVATE
    if addr in (None, ctypes.c_void_p(-1).value):
        sys.exit(f"mmap {path}: errno {ctypes.get_errno()}")
    pages = (size + PAGE - 1) // PAGE
    vec = (ctypes.c_ubyte * pages)()
    if libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(size), vec) != 0:
        sys.exit(f"mincore {path}: errno {ctypes.get_errno()}")
    return {i * PAGE for i in range(pages) if vec[i] & 1}


def exec_segments(path):
    """(file offset, virtual address, size) of each executable PT_LOAD segment."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                         check=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            segs.append((int(f[1], 16), int(f[2], 16), int(f[4], 16)))
    return segs


def functions(map_path):
    """(address, name) of every symbol lld's map file places, by address. A map line is
    `VMA LMA Size Align` and then an output section, an input section (`file:(section)`) or,
    indented deepest, a symbol."""
    syms = []
    with open(map_path) as f:
        next(f)  # the column titles
        for line in f:
            fields = line.split()
            if len(fields) != 5 or ":(" in fields[4] or fields[4].startswith("."):
                continue
            try:
                syms.append((int(fields[0], 16), fields[4]))
            except ValueError:
                continue
    syms.sort()
    return syms


def main():
    path = sys.argv[1]
    hot_addrs = set()
    pages = resident_pages(path)
    for off, vaddr, size in exec_segments(path):
        for p in pages:
            if off <= p < off + size:
                hot_addrs.add(vaddr + (p - off))
    syms = functions(sys.argv[2])
    seen = set()
    for i, (addr, name) in enumerate(syms):
        end = syms[i + 1][0] if i + 1 < len(syms) else addr + 1
        first = addr - addr % PAGE
        if any(page in hot_addrs for page in range(first, max(end, addr + 1), PAGE)):
            if name not in seen:
                seen.add(name)
                print(name)


if __name__ == "__main__":
    main()
