/**
 * Internal: what the API packages share (kernel flips and masks, the {@code convcl.*} / {@code CONVCL_*} settings),
 * public only for the library's own packages; no compatibility promise, not in the Javadoc.
 */
package org.convcl.internal;
