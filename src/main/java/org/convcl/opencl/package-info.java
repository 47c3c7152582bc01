/**
 * The OpenCL backend through JOCL, as users touch it: {@link OpenClBackend}, {@link DeviceTensor}, the devices
 * ({@link OpenClDevice}, {@link DeviceDiscovery}, {@link DeviceSelector}) and its exceptions; internals in internal.*.
 */
package org.convcl.opencl;
