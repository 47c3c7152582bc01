/**
 * Files: {@link Npy} reads (defensively) and writes (atomically) NumPy {@code .npy} arrays; {@link Json} is the small
 * JSON reader and writer of the tuning database and the bench suite and report.
 */
package org.convcl.io;
