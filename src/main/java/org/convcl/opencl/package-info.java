/**
 * The OpenCL backend through JOCL, as users touch it: {@link OpenClBackend}, {@link DeviceTensor}, the devices
 * ({@link OpenClDevice}, {@link DeviceDiscovery}, {@link DeviceSelector}, {@link PciLocation}) and its exceptions;
 * internals in internal.*.
 */
package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;