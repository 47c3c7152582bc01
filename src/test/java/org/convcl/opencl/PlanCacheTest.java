package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convcl.internal.Settings;
import org.junit.jupiter.api.Test;

/** The bounded plan cache on its own, with stand-in plans: LRU order, leases that outlive eviction, the setting. */
class PlanCacheTest {
    /** A plan that records its closing. */
    private static final class FakePlan implements AutoCloseable {
        private final String name;
        private int closings;

        FakePlan(String name) {
            this.name = name;
        }

        @Override
        public void close() {
            closings++;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static FakePlan use(PlanCache cache, String key) {
        return PlanCache.peek(cache.acquire(key, () -> new FakePlan(key)));
    }

    @Test
    void evictsTheLeastRecentlyUsedPlanPastCapacityAndClosesIt() {
        PlanCache cache = new PlanCache(2);
        FakePlan a = use(cache, "a");
        FakePlan b = use(cache, "b");
        assertSame(a, use(cache, "a"), "a cached plan is reused, and now the most recently used");
        FakePlan c = use(cache, "c");
        assertEquals(2, cache.size());
        assertEquals(1, cache.evictions());
        assertEquals(1, b.closings, "b, the least recently used, is evicted and closed");
        assertEquals(0, a.closings + c.closings);
        FakePlan again = use(cache, "b");
        assertFalse(again == b, "an evicted plan is built again on its next use");
        assertEquals(1, a.closings, "which evicts a, now the least recently used");
        cache.close();
        assertEquals(1, c.closings, "closing the cache closes the plans it holds");
        assertEquals(1, again.closings);
    }

    @Test
    void anEvictedPlanInUseIsClosedWhenItsLastLeaseEnds() {
        PlanCache cache = new PlanCache(1);
        PlanCache.Lease<FakePlan> first = cache.acquire("a", () -> new FakePlan("a"));
        PlanCache.Lease<FakePlan> second = cache.leaseOf(first.plan()).orElseThrow();
        use(cache, "b");
        assertEquals(1, cache.evictions());
        assertTrue(cache.leaseOf(first.plan()).isEmpty(), "an evicted plan is no longer leased out");
        first.close();
        assertEquals(0, first.plan().closings, "a call still enqueues with it");
        second.close();
        assertEquals(1, second.plan().closings, "closed once its last call is done");
        second.close();
        assertEquals(1, second.plan().closings, "a lease ends once");
    }

    @Test
    void capacityComesFromTheSettingAndABadOneIsRefused() {
        String property = Settings.OPENCL_PLAN_CACHE_SIZE.property();
        String before = System.getProperty(property);
        try {
            System.clearProperty(property);
            // The environment may set it too; the property wins when set.
            System.setProperty(property, "7");
            assertEquals(7, PlanCache.configuredCapacity());
            System.setProperty(property, "0");
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    PlanCache::configuredCapacity, "not positive: refused");
            assertTrue(refused.getMessage().contains(property) && refused.getMessage().contains("'0'"),
                    refused.getMessage());
            System.setProperty(property, "many");
            assertThrows(IllegalArgumentException.class, PlanCache::configuredCapacity, "not a number: refused");
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new PlanCache(0));
    }
}
