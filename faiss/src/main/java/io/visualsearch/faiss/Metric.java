package io.visualsearch.faiss;

/** Distance used by an index. Codes are faiss::MetricType's values. */
public enum Metric {
    /** Squared Euclidean distance; smaller is closer. */
    L2(1),
    /** Dot product; larger is closer (cosine when vectors are L2-normalised). */
    INNER_PRODUCT(0);

    private final int code;

    Metric(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }

    static Metric fromCode(int code) {
        for (Metric metric : values()) {
            if (metric.code == code) {
                return metric;
            }
        }
        throw new FaissException("index uses faiss::MetricType " + code + ", which this binding does not expose");
    }
}
