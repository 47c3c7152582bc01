/**
 * The engine of {@code convcl bench} (part of the CLI application, not library API): the suite of shapes, the runner
 * (median times, poisoned outputs, float64 check), the device paths measured, link speed, and the report.
 */
package org.convcl.bench;
