package io.corezfs;

/**
 * Where the core tells the operator what it decided and why (kept a modified file, forced past a kernel check).
 * The CLI routes this to picocli's err writer and honours -q/-v; tests collect it.
 */
public interface Reporter {
    void info(String message);

    void warn(String message);

    Reporter SILENT = new Reporter() {
        @Override
        public void info(String message) {}

        @Override
        public void warn(String message) {}
    };
}
