/**
 * Files: {@link org.convcl.io.Npy} reads (defensively) and writes (atomically) NumPy {@code .npy} arrays.
 */
package org.convcl.io;
