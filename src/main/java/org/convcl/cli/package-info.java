/**
 * The {@code convcl} command line ({@link Main}, on picocli): one class per subcommand, shared options, exit codes and
 * one-line errors. An application over the library, not library API.
 */
package org.convcl.cli;
