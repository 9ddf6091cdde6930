#!/usr/bin/env python3
"""How many fdatasync()s per second this disk does, from 1 thread and from many at once.

Each thread appends 200 bytes to its own file and fdatasyncs, as one shard's WAL does per Raft
round. Prints the aggregate rate per thread count and its ratio to one thread (the baseline,
measured in the same run). Used to tell whether a cluster of many per-shard WALs is bound by the
disk (it is not, when the concurrent rate is far above what the shards ask for).

    python3 bench/fsync_concurrency.py [--dir /path/on/the/disk] [--seconds 3]
"""
import argparse
import os
import tempfile
import threading
import time


def rate(directory, threads, seconds):
    counts = [0] * threads
    stop = time.time() + seconds

    def work(i):
        path = os.path.join(directory, f"fsync-{i}.dat")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        offset = 0
        try:
            while time.time() < stop:
                os.pwrite(fd, b"x" * 200, offset)
                offset += 200
                os.fdatasync(fd)
                counts[i] += 1
        finally:
            os.close(fd)
            os.unlink(path)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=None, help="a directory on the disk to measure (default: a temporary one beside this script)")
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    base = args.dir or os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory(dir=base) as directory:
        one = rate(directory, 1, args.seconds)
        print(f"threads  1: {one:9.0f} fdatasync/s  ratio 1.00 (baseline)")
        for n in (3, 16, 48):
            r = rate(directory, n, args.seconds)
            print(f"threads {n:2}: {r:9.0f} fdatasync/s  ratio {r / one:.2f}")


if __name__ == "__main__":
    main()
