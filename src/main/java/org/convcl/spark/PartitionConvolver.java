package org.convcl.spark;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;
import org.convcl.Tensor;

/**
 * The per-partition work of {@link ConvTransformer}: it reads the rows lazily, convolves their samples in batches
 * of up to {@code batchSize} through the executor's layer, and yields each row with its output appended, in order.
 * A null sample gives a null output; a sample of the wrong length, or holding a null, fails the task with a message
 * naming the row's position (its index within its partition, and the partition) and the shape expected.
 *
 * <p>Serializable (it is the closure Spark ships): it holds the broadcast recipe and the column's position only.
 */
final class PartitionConvolver implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<ConvRecipe> recipe;
    private final int inputIndex;
    private final String inputColumn;

    PartitionConvolver(Broadcast<ConvRecipe> recipe, int inputIndex, String inputColumn) {
        this.recipe = recipe;
        this.inputIndex = inputIndex;
        this.inputColumn = inputColumn;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        ConvRecipe settings = recipe.value();
        TaskContext task = TaskContext.get();
        ExecutorConvs.Lease lease = ExecutorConvs.lease(settings, TaskBackends.forCurrentTask(settings.backend()));
        if (task != null) {
            // Given back when the task ends however it ends (consumed, failed, or cut short by a limit).
            task.addTaskCompletionListener((TaskCompletionListener) context -> lease.close());
        }
        return new Batches(rows, lease, settings, task == null ? -1 : task.partitionId());
    }

    /** The output rows, computed a batch at a time as they are asked for. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> input;
        private final ExecutorConvs.Lease lease;
        private final ConvRecipe settings;
        private final int partition;
        private final int sampleLength;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private long rowsRead;

        Batches(Iterator<Row> input, ExecutorConvs.Lease lease, ConvRecipe settings, int partition) {
            this.input = input;
            this.lease = lease;
            this.settings = settings;
            this.partition = partition;
            this.sampleLength = settings.sampleLength();
        }

        @Override
        public boolean hasNext() {
            if (ready.isEmpty() && input.hasNext()) {
                convolveNextBatch();
            }
            if (ready.isEmpty()) {
                lease.close();
                return false;
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }

        /** Reads rows until {@code batchSize} samples (nulls pass through uncounted), convolves them, queues all. */
        private void convolveNextBatch() {
            int batchSize = settings.batchSize();
            List<Row> rows = new ArrayList<>();
            List<Integer> withSample = new ArrayList<>();
            float[] batch = new float[batchSize * sampleLength];
            while (withSample.size() < batchSize && input.hasNext()) {
                Row row = input.next();
                long position = rowsRead++;
                if (!row.isNullAt(inputIndex)) {
                    readSample(row.get(inputIndex), position, batch, withSample.size() * sampleLength);
                    withSample.add(rows.size());
                }
                rows.add(row);
            }
            float[] outputs = null;
            int outputLength = settings.outputLength();
            if (!withSample.isEmpty()) {
                int count = withSample.size();
                float[] samples = count == batchSize ? batch : Arrays.copyOf(batch, count * sampleLength);
                outputs = lease.conv().apply(Tensor.of(samples, settings.batchShape(count))).data();
            }
            int next = 0;
            for (int r = 0; r < rows.size(); r++) {
                float[] output = null;
                if (next < withSample.size() && withSample.get(next) == r) {
                    output = Arrays.copyOfRange(outputs, next * outputLength, (next + 1) * outputLength);
                    next++;
                }
                ready.add(withOutput(rows.get(r), output));
            }
        }

        /**
         * Copies one sample into the batch. Spark hands an {@code array<float>} to a function in whatever form the
         * operator before made it: a Scala {@code Seq} of boxed floats when it deserialises a row, but the very
         * {@code float[]} (or list) that an adjacent map function put in its row, since Spark's optimiser drops the
         * serialisation between two object operators.
         */
        private void readSample(Object value, long position, float[] batch, int offset) {
            if (value instanceof float[] floats) {
                checkLength(floats.length, position);
                System.arraycopy(floats, 0, batch, offset, sampleLength);
            } else if (value instanceof scala.collection.Seq<?> seq) {
                checkLength(seq.length(), position);
                scala.collection.Iterator<?> values = seq.iterator();
                for (int i = 0; i < sampleLength; i++) {
                    batch[offset + i] = element(values.next(), i, position);
                }
            } else if (value instanceof List<?> list) {
                checkLength(list.size(), position);
                int i = 0;
                for (Object element : list) {
                    batch[offset + i] = element(element, i, position);
                    i++;
                }
            } else if (value instanceof Object[] array) {
                checkLength(array.length, position);
                for (int i = 0; i < sampleLength; i++) {
                    batch[offset + i] = element(array[i], i, position);
                }
            } else {
                throw new IllegalArgumentException(where(position) + " holds a " + value.getClass().getName()
                        + "; expected an array<float> value (a float[], a Seq or a List of floats)");
            }
        }

        private void checkLength(int length, long position) {
            if (length != sampleLength) {
                throw new IllegalArgumentException(where(position) + " has " + length + " values; expected "
                        + sampleLength + ", a flattened sample of sampleShape "
                        + Arrays.toString(settings.sampleShape()) + " (" + settings.layout() + ")");
            }
        }

        private float element(Object value, int index, long position) {
            if (value instanceof Float number) {
                return number;
            }
            if (value == null) {
                throw new IllegalArgumentException(where(position) + " holds a null at index " + index
                        + "; a sample must hold " + sampleLength + " floats (a null row is allowed, and gives a "
                        + "null output)");
            }
            throw new IllegalArgumentException(where(position) + " holds a " + value.getClass().getName()
                    + " at index " + index + "; expected a float");
        }

        private String where(long position) {
            return "inputCol '" + inputColumn + "': row " + position + " of partition " + partition;
        }
    }

    private static Row withOutput(Row row, float[] output) {
        Object[] values = new Object[row.length() + 1];
        for (int i = 0; i < row.length(); i++) {
            values[i] = row.get(i);
        }
        values[row.length()] = output;
        return RowFactory.create(values);
    }
}
