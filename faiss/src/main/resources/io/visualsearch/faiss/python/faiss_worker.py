"""Python FAISS driven from Java, one command per line on stdin.

The Java side (io.visualsearch.faiss.python.PythonFaiss) uses this to compare its binding
with the Python FAISS tools on the same files: results for parity tests, timings for the
binding benchmark. Fields are tab-separated; every command answers one line, "ok[\t...]" or
"error\t<message>". Arrays travel as raw little-endian files (float32 vectors, int64 ids).
"""
import ctypes
import sys
import time
import traceback

import faiss
import numpy as np

METRICS = {"L2": faiss.METRIC_L2, "INNER_PRODUCT": faiss.METRIC_INNER_PRODUCT}


class Worker:
    def __init__(self):
        self.index = None
        self.xq = None

    def threads(self, n):
        # OpenMP per calling thread, and OpenBLAS's process-wide pool (the libopenblas.so.0
        # that faiss already loaded through libblas.so.3), as the Java side sets them.
        faiss.omp_set_num_threads(int(n))
        openblas = ctypes.CDLL("libopenblas.so.0")
        openblas.openblas_set_num_threads(int(n))
        return [str(faiss.omp_get_max_threads()), str(openblas.openblas_get_num_threads())]

    def load(self, path):
        self.index = faiss.read_index(path)
        return [str(self.index.d), str(self.index.ntotal)]

    def params(self, parameters):
        faiss.ParameterSpace().set_index_parameters(self.index, parameters)
        return []

    def queries(self, path):
        self.xq = np.fromfile(path, dtype="<f4").reshape(-1, self.index.d)
        return [str(self.xq.shape[0])]

    def search(self, k, ids_path, distances_path):
        distances, ids = self.index.search(self.xq, int(k))
        ids.astype("<i8").tofile(ids_path)
        distances.astype("<f4").tofile(distances_path)
        return []

    def time_single(self, k, count):
        # One query per call, the way a request handler would call FAISS.
        k, count = int(k), int(count)
        index, xq = self.index, self.xq
        start = time.perf_counter()
        for i in range(count):
            index.search(xq[i:i + 1], k)
        return [repr(time.perf_counter() - start)]

    def time_batch(self, k):
        start = time.perf_counter()
        self.index.search(self.xq, int(k))
        return [repr(time.perf_counter() - start)]

    def build(self, description, metric, vectors_path, d, index_path):
        d = int(d)
        xb = np.fromfile(vectors_path, dtype="<f4").reshape(-1, d)
        index = faiss.index_factory(d, description, METRICS[metric])
        index.train(xb)
        index.add(xb)
        faiss.write_index(index, index_path)
        return [str(index.ntotal)]


def main():
    worker = Worker()
    print("ready\t" + faiss.__version__, flush=True)
    for line in sys.stdin:
        fields = line.rstrip("\n").split("\t")
        command, args = fields[0], fields[1:]
        if command == "quit":
            break
        try:
            handler = getattr(worker, command, None)
            if handler is None or command.startswith("_"):
                raise ValueError("unknown command " + command)
            reply = ["ok"] + handler(*args)
        except Exception as e:  # reported to Java, the worker keeps serving
            traceback.print_exc(file=sys.stderr)
            reply = ["error", " ".join(str(e).split())]
        print("\t".join(reply), flush=True)


if __name__ == "__main__":
    main()
