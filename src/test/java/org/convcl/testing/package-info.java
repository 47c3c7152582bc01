/**
 * Test support for every test package: the float64 reference (NaiveConv), golden cases, tolerances, random
 * configurations, channels-first data, OpenCL backends per test class, and commands run in child processes.
 */
package org.convcl.testing;
