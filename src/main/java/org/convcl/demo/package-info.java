/**
 * A picture of the knobs: {@code convcl demo} convolves one grayscale image through each padding mode,
 * stride, input and kernel dilation ({@link org.convcl.demo.Knobs}) and lays the results out, labelled, in
 * one PNG ({@link org.convcl.demo.GridRenderer}). Everything is drawn into raster samples with an embedded
 * bitmap font, so it runs headless with no fonts installed.
 */
package org.convcl.demo;
