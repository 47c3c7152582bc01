/**
 * {@code convcl soak}: a long run of small convolutions that shows whether anything leaks, watching the live native
 * object counts and the process's resident memory ({@link Soak}). Part of the CLI application.
 */
package org.convcl.diagnostics;
