package org.convcl.io;

/** A {@code .npy} file whose content is not a supported array: bad magic, header, dtype, order or size. */
public final class NpyFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The file's dtype when that dtype is what the reader refused, else null. */
    private final String refusedDtype;

    public NpyFormatException(String message) {
        this(message, null);
    }

    /** A file refused for its dtype {@code refusedDtype} (the header's {@code descr}, as written there). */
    public NpyFormatException(String message, String refusedDtype) {
        super(message);
        this.refusedDtype = refusedDtype;
    }

    /**
     * The file's dtype ({@code '<f2'}, {@code '<i4'}, ...) when the file was refused for it, else null: a caller
     * that chose the reader (the CLI's {@code --dtype}) can then state its own rule instead of the reader's.
     */
    public String refusedDtype() {
        return refusedDtype;
    }
}
