/**
 * {@code convcl demo}: one grayscale image through each padding mode, stride and dilation ({@link Knobs}),
 * laid out and labelled in one PNG ({@link GridRenderer}), drawn headless with an embedded bitmap font.
 */
package org.convcl.demo;
