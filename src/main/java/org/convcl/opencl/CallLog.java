package org.convcl.opencl;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A backend's recent asynchronous calls, so that a wait for the whole device ({@link OpenClBackend#finish()})
 * reports a failure naming the call that failed. Bounded: past {@value #CAPACITY} calls the oldest is looked at
 * without waiting (a failure found then is kept for the next check) and let go. Thread-safe.
 */
final class CallLog {
    static final int CAPACITY = 256;

    private final ArrayDeque<Production> recent = new ArrayDeque<>();
    private Production failed;
    private int failedStatus;

    /** Remembers {@code work} (with a reference of its own) until the next {@link #check()}. */
    void add(Production work) {
        Production oldest = null;
        synchronized (this) {
            recent.addLast(work.retain());
            if (recent.size() > CAPACITY) {
                oldest = recent.pollFirst();
            }
        }
        if (oldest != null) {
            forget(oldest);
        }
    }

    private void forget(Production work) {
        int status = work.status();
        synchronized (this) {
            if (status < 0 && failed == null) {
                failed = work;
                failedStatus = status;
                return;
            }
        }
        work.release();
    }

    /**
     * After a wait for every command: throws the failure of the first remembered call that failed, and forgets
     * them all. The calls are complete, so their statuses are final.
     */
    void check() {
        List<Production> calls;
        Production failure;
        int status;
        synchronized (this) {
            calls = new ArrayList<>(recent);
            recent.clear();
            failure = failed;
            status = failedStatus;
            failed = null;
        }
        try {
            for (Production call : calls) {
                if (failure != null) {
                    break;
                }
                int callStatus = call.status();
                if (callStatus < 0) {
                    failure = call.retain();
                    status = callStatus;
                }
            }
        } finally {
            calls.forEach(Production::release);
        }
        if (failure != null) {
            try {
                throw failure.failure(status, null);
            } finally {
                failure.release();
            }
        }
    }

    /** Lets go of every remembered call (the backend is closing). */
    void clear() {
        List<Production> calls;
        synchronized (this) {
            calls = new ArrayList<>(recent);
            recent.clear();
            if (failed != null) {
                calls.add(failed);
                failed = null;
            }
        }
        calls.forEach(Production::release);
    }
}
