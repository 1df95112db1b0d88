package io.visualsearch.faiss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.visualsearch.faiss.python.LittleEndianArrays;
import io.visualsearch.faiss.python.PythonFaiss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Holds the binding to the Python FAISS tools (Debian python3-faiss, the system python's
 * module): same answers on the same data, and index files that cross in both directions.
 * Fails when the Python side is missing, unless FAISS_PARITY_OPTIONAL=1.
 */
class PythonFaissParityTest {
    private static final int D = 48;
    private static final int K = 10;

    private static PythonFaiss python;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPython() throws IOException {
        Path interpreter = PythonFaiss.configuredPython();
        Optional<String> unavailable = PythonFaiss.unavailableReason(interpreter);
        if (unavailable.isPresent()) {
            String reason = "Python FAISS parity cannot run: " + unavailable.get()
                    + ". Install Debian's python3-faiss (or point " + PythonFaiss.PYTHON_ENV
                    + " at a python that has it); set FAISS_PARITY_OPTIONAL=1 to skip instead.";
            if ("1".equals(System.getenv("FAISS_PARITY_OPTIONAL"))) {
                Assumptions.abort(reason);
            }
            fail(reason);
        }
        python = PythonFaiss.start(interpreter);
    }

    @AfterAll
    static void stopPython() {
        if (python != null) {
            python.close();
        }
    }

    @Test
    void exactSearchIsIdenticalAndFilesAreByteIdentical() throws IOException {
        float[] database = TestVectors.random(4000, D, 101);
        float[] queries = TestVectors.random(150, D, 102);
        Path vectors = dir.resolve("base.f32");
        LittleEndianArrays.writeFloats(vectors, database);
        Path javaFile = dir.resolve("java-flat.faiss");
        Path pythonFile = dir.resolve("python-flat.faiss");

        try (FaissIndex index = FaissIndex.create(D, "Flat", Metric.L2)) {
            index.add(database);
            index.write(javaFile);
            python.buildIndex("Flat", Metric.L2, vectors, D, pythonFile);
            assertArrayEquals(Files.readAllBytes(pythonFile), Files.readAllBytes(javaFile),
                    "Java and Python wrote different bytes for the same Flat index");

            SearchResult javaResult = index.search(queries, K);
            assertIdentical(javaResult, pythonSearch(javaFile, null, queries));
            assertIdentical(javaResult, pythonSearch(pythonFile, null, queries));
        }
    }

    @Test
    void ivfIndexWrittenByJavaIsReadByPythonWithIdenticalResults() throws IOException {
        float[] database = TestVectors.clustered(6000, D, 60, 103);
        float[] queries = TestVectors.clustered(120, D, 60, 104);
        Path javaFile = dir.resolve("java-ivf.faiss");
        try (FaissIndex index = FaissIndex.create(D, "IVF32,Flat", Metric.INNER_PRODUCT)) {
            index.train(database);
            long[] ids = new long[6000];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 5_000_000_000L + i;
            }
            index.addWithIds(database, ids);
            index.write(javaFile);
            index.setParameters("nprobe=4");
            assertIdentical(index.search(queries, K), pythonSearch(javaFile, "nprobe=4", queries));
        }
    }

    @Test
    void ivfIndexWrittenByPythonIsReadByJavaWithIdenticalResults() throws IOException {
        float[] database = TestVectors.clustered(6000, D, 60, 105);
        float[] queries = TestVectors.clustered(120, D, 60, 106);
        Path vectors = dir.resolve("base.f32");
        LittleEndianArrays.writeFloats(vectors, database);
        Path pythonFile = dir.resolve("python-ivf.faiss");
        python.buildIndex("IVF32,Flat", Metric.L2, vectors, D, pythonFile);
        SearchResult pythonResult = pythonSearch(pythonFile, "nprobe=4", queries);
        try (FaissIndex index = FaissIndex.read(pythonFile)) {
            assertEquals(6000, index.ntotal());
            assertEquals(Metric.L2, index.metric());
            index.setParameters("nprobe=4");
            assertIdentical(index.search(queries, K), pythonResult);
        }
    }

    private SearchResult pythonSearch(Path indexFile, String parameters, float[] queries) throws IOException {
        Path queryFile = dir.resolve("queries.f32");
        Path ids = dir.resolve("ids.i64");
        Path distances = dir.resolve("distances.f32");
        LittleEndianArrays.writeFloats(queryFile, queries);
        python.loadIndex(indexFile);
        if (parameters != null) {
            python.setParameters(parameters);
        }
        int n = python.loadQueries(queryFile);
        python.search(K, ids, distances);
        return new SearchResult(n, K, LittleEndianArrays.readLongs(ids), LittleEndianArrays.readFloats(distances));
    }

    private static void assertIdentical(SearchResult java, SearchResult python) {
        assertEquals(python.queries(), java.queries());
        assertArrayEquals(python.allIds(), java.allIds(), "ids differ between Java and Python");
        assertArrayEquals(python.allDistances(), java.allDistances(), "distances differ between Java and Python");
    }
}
