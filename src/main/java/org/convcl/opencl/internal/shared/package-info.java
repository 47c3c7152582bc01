/** The release path of the JVM-wide shared OpenCL backends, for backend selection alone. Internal. */
package org.convcl.opencl.internal.shared;
