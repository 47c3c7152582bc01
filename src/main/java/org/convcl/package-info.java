/**
 * The library's API: the layers {@link Conv} and {@link ConvTranspose} with their specs, geometries and gradients,
 * {@link Tensor}, and one-off calls ({@link Convolution}); the classes that implement them are package-private.
 */
package org.convcl;

import org.convcl.nn.Convolution;
import org.convcl.nn.ConvTranspose;
import org.convcl.nn.Conv;