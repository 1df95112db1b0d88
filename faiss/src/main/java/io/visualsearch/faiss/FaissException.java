package io.visualsearch.faiss;

/**
 * A failure reported by FAISS itself (a C++ {@code faiss::FaissException} or other
 * {@code std::exception}), carrying FAISS's own message, which names the failing check and
 * its source location. Argument errors the Java layer can detect up front are reported as
 * {@link IllegalArgumentException} instead and never reach native code.
 */
public class FaissException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Used by the generated JNI code, which passes {@code what()} of the C++ exception. */
    public FaissException(String message) {
        super(message);
    }

    public FaissException(String message, Throwable cause) {
        super(message, cause);
    }
}
