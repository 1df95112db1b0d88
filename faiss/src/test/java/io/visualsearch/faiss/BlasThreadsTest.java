package io.visualsearch.faiss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BlasThreadsTest {

    @Test
    void settingIsProcessWide() throws Exception {
        int before = BlasThreads.forProcess();
        int chosen = before == 1 ? 2 : 1;
        try {
            BlasThreads.setForProcess(chosen);
            int[] seenElsewhere = new int[1];
            Thread other = new Thread(() -> seenElsewhere[0] = BlasThreads.forProcess());
            other.start();
            other.join();
            assertEquals(chosen, BlasThreads.forProcess());
            assertEquals(chosen, seenElsewhere[0]);
        } finally {
            BlasThreads.setForProcess(before);
        }
        assertEquals(before, BlasThreads.forProcess());
    }

    @Test
    void rejectsNonPositiveCounts() {
        assertThrows(IllegalArgumentException.class, () -> BlasThreads.setForProcess(-1));
    }
}
