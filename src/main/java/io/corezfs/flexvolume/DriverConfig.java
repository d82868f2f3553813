package io.corezfs.flexvolume;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.host.KeyValueFile;
import io.corezfs.host.RootFs;

/**
 * The driver's own settings, {@code /etc/corezfs/flexvolume.conf}, written by {@code corezfs flexvolume install} and
 * read by every mount: {@code KEY=value} lines under the same rules as {@code corezfs.conf} (comments, blank lines,
 * optional quotes; an unknown or repeated key is an error naming the file and line). Today it holds one key:
 *
 * <pre>
 * PARENT=tank/kube    the dataset whose children pods mount; a pod never names it
 * </pre>
 *
 * @param parent the dataset pods' volumes are created under
 */
public record DriverConfig(String parent) {
    /** Where the file lives on a node, relative to its root. */
    public static final String PATH = "/etc/corezfs/flexvolume.conf";

    public static final String PARENT = "PARENT";

    public DriverConfig {
        ZfsValues.dataset(parent, PARENT);
    }

    /** The node's configuration; without the file the driver is not installed (exit 3). */
    public static DriverConfig load(RootFs fs) {
        String text = fs.readIfExists(PATH)
                .orElseThrow(() -> CorezfsException.precondition("the driver is not configured: no " + PATH
                        + " (run corezfs flexvolume install --parent POOL/DATASET)"));
        return parse(text, PATH);
    }

    /** Parses the file's text; {@code origin} names it in messages. */
    public static DriverConfig parse(String text, String origin) {
        String parent = null;
        int parentLine = 0;
        for (KeyValueFile.Entry e : KeyValueFile.entries(text, origin)) {
            String where = origin + ":" + e.line();
            if (!e.key().equals(PARENT)) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        where + ": unknown key " + Text.printable(e.key(), 80) + " (known: " + PARENT + ")");
            }
            if (parent != null) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        where + ": " + PARENT + " is set twice (first on line " + parentLine + ")");
            }
            try {
                parent = ZfsValues.dataset(e.value(), PARENT);
            } catch (CorezfsException bad) {
                throw new CorezfsException(ExitCode.PRECONDITION, where + ": " + bad.getMessage());
            }
            parentLine = e.line();
        }
        if (parent == null) {
            throw new CorezfsException(ExitCode.PRECONDITION, origin + ": no " + PARENT + " in it");
        }
        return new DriverConfig(parent);
    }

    /** The file's text, as install writes it. */
    public String text() {
        return "# The corezfs FlexVolume driver (corezfs/zfs), written by `corezfs flexvolume install`.\n"
                + "# Pods' volumes are datasets directly under PARENT; a pod names only the child.\n"
                + PARENT + "=" + parent + "\n";
    }
}
