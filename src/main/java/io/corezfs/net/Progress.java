package io.corezfs.net;

/**
 * Where long operations report how far they are. The CLI draws a bar on a terminal and writes plain log lines
 * otherwise; tests record the calls.
 */
public interface Progress {
    /** @param total bytes expected, or -1 when unknown */
    void update(String what, long done, long total);

    void done(String what);

    Progress NONE = new Progress() {
        @Override
        public void update(String what, long done, long total) {}

        @Override
        public void done(String what) {}
    };
}
