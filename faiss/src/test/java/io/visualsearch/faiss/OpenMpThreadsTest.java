package io.visualsearch.faiss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OpenMpThreadsTest {

    @Test
    void settingIsPerJavaThread() throws Exception {
        AtomicInteger untouched = new AtomicInteger();
        Thread probe = new Thread(() -> untouched.set(OpenMpThreads.forCurrentThread()));
        probe.start();
        probe.join();
        int chosen = untouched.get() + 3;

        AtomicInteger seenBySetter = new AtomicInteger();
        AtomicInteger seenByOther = new AtomicInteger();
        Thread setter = new Thread(() -> {
            OpenMpThreads.setForCurrentThread(chosen);
            seenBySetter.set(OpenMpThreads.forCurrentThread());
        });
        setter.start();
        setter.join();
        Thread other = new Thread(() -> seenByOther.set(OpenMpThreads.forCurrentThread()));
        other.start();
        other.join();

        assertEquals(chosen, seenBySetter.get());
        assertNotEquals(chosen, seenByOther.get());
        assertEquals(untouched.get(), seenByOther.get());
    }

    @Test
    void rejectsNonPositiveCounts() {
        assertThrows(IllegalArgumentException.class, () -> OpenMpThreads.setForCurrentThread(0));
    }
}
