package io.visualsearch.faiss;

/** Run by ITFatJarLoad in a fresh JVM whose classpath holds only the fat jar and the test classes. */
public final class FatJarProbe {
    private FatJarProbe() {}

    public static void main(String[] args) {
        try (FaissIndex index = FaissIndex.create(4, "IDMap,Flat", Metric.L2)) {
            index.addWithIds(new float[] {0, 0, 0, 0, 5, 5, 5, 5}, new long[] {41, 42});
            long nearest = index.search(new float[] {4, 5, 5, 5}, 1).id(0, 0);
            System.out.println("nearest=" + nearest + " library=" + FaissIndex.class.getProtectionDomain().getCodeSource().getLocation());
        }
    }
}
