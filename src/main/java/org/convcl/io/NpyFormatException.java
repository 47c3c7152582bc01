package org.convcl.io;

/** A {@code .npy} file whose content is not a supported array: bad magic, header, dtype, order or size. */
public final class NpyFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public NpyFormatException(String message) {
        super(message);
    }
}
