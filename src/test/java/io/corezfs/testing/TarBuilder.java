package io.corezfs.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Crafts archives byte by byte, hostile ones included, bypassing every check the real writer makes. By default it
 * adds a manifest that agrees with the entries, so each test breaks exactly one rule.
 */
public final class TarBuilder {
    private record Item(TarArchiveEntry tar, byte[] data, boolean inManifest, ObjectNode manifestLine) {}

    private final List<Item> items = new ArrayList<>();
    private final ObjectMapper json = new ObjectMapper();
    private String os = "flatcar";
    private String version = HostRoots.FLATCAR_VERSION;
    private String kernel = HostRoots.KERNEL;
    private String zfs = "2.1.11";
    private boolean withManifest = true;
    private Consumer<ObjectNode> manifestEdit = m -> {};
    private byte[] rawManifest;

    public static TarBuilder flatcar() {
        return new TarBuilder();
    }

    public TarBuilder kernel(String k) {
        this.kernel = k;
        return this;
    }

    public TarBuilder osVersion(String v) {
        this.version = v;
        return this;
    }

    public TarBuilder zfs(String v) {
        this.zfs = v;
        return this;
    }

    public TarBuilder noManifest() {
        this.withManifest = false;
        return this;
    }

    public TarBuilder rawManifest(String text) {
        this.rawManifest = text.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public TarBuilder editManifest(Consumer<ObjectNode> edit) {
        this.manifestEdit = edit;
        return this;
    }

    public TarBuilder dir(String name) {
        return add(entry(name + "/", TarConstants.LF_DIR, 0755), new byte[0], line(name, "dir", 0755));
    }

    public TarBuilder file(String name, String content) {
        return file(name, content, 0644);
    }

    public TarBuilder file(String name, String content, int mode) {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry t = entry(name, TarConstants.LF_NORMAL, mode);
        t.setSize(b.length);
        ObjectNode l = line(name, "file", mode);
        l.put("size", b.length);
        l.put("sha256", sha256(b));
        return add(t, b, l);
    }

    public TarBuilder symlink(String name, String target) {
        TarArchiveEntry t = entry(name, TarConstants.LF_SYMLINK, 0777);
        t.setLinkName(target);
        ObjectNode l = line(name, "symlink", 0777);
        l.put("target", target);
        return add(t, new byte[0], l);
    }

    public TarBuilder hardlink(String name, String target) {
        TarArchiveEntry t = entry(name, TarConstants.LF_LINK, 0644);
        t.setLinkName(target);
        ObjectNode l = line(name, "hardlink", 0644);
        l.put("target", target);
        return add(t, new byte[0], l);
    }

    /** Any tar entry, listed in the manifest with {@code line} (null: not listed). */
    public TarBuilder raw(TarArchiveEntry t, byte[] data, ObjectNode manifestLine) {
        items.add(new Item(t, data, manifestLine != null, manifestLine));
        return this;
    }

    /** A file whose tar bytes differ from what the manifest promises. */
    public TarBuilder fileWithWrongHash(String name, String content) {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry t = entry(name, TarConstants.LF_NORMAL, 0644);
        t.setSize(b.length);
        ObjectNode l = line(name, "file", 0644);
        l.put("size", b.length);
        l.put("sha256", sha256("something else".getBytes(StandardCharsets.UTF_8)));
        return add(t, b, l);
    }

    /** An entry that is in the tar but not in the manifest. */
    public TarBuilder unlisted(String name, String content) {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry t = entry(name, TarConstants.LF_NORMAL, 0644);
        t.setSize(b.length);
        return raw(t, b, null);
    }

    public ObjectNode line(String path, String type, int mode) {
        ObjectNode l = json.createObjectNode();
        l.put("path", path);
        l.put("type", type);
        l.put("mode", String.format("%04o", mode));
        return l;
    }

    private TarBuilder add(TarArchiveEntry t, byte[] data, ObjectNode l) {
        items.add(new Item(t, data, true, l));
        return this;
    }

    public static TarArchiveEntry entry(String name, byte type, int mode) {
        TarArchiveEntry t = new TarArchiveEntry(name, type, true);
        t.setMode(mode);
        t.setModTime(1_700_000_000_000L);
        return t;
    }

    public byte[] tarBytes() {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bos)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                if (withManifest) {
                    byte[] m = rawManifest != null ? rawManifest : manifest();
                    TarArchiveEntry t = entry("corezfs-manifest.json", TarConstants.LF_NORMAL, 0644);
                    t.setSize(m.length);
                    tar.putArchiveEntry(t);
                    tar.write(m);
                    tar.closeArchiveEntry();
                }
                for (Item i : items) {
                    tar.putArchiveEntry(i.tar());
                    if (i.data().length > 0) {
                        tar.write(i.data());
                    }
                    tar.closeArchiveEntry();
                }
            }
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public byte[] gzBytes() {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(tarBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    public Path writeTo(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, gzBytes());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] manifest() {
        ObjectNode m = json.createObjectNode();
        m.put("format", 1);
        m.put("os", os);
        m.put("osVersion", version);
        m.put("board", "amd64-usr");
        m.put("channel", "stable");
        m.put("kernel", kernel);
        m.put("arch", "x86_64");
        m.put("zfsVersion", zfs);
        m.put("toolVersion", "test");
        m.put("buildEpoch", 1_700_000_000L);
        ArrayNode entries = m.putArray("entries");
        for (Item i : items) {
            if (i.inManifest()) {
                entries.add(i.manifestLine());
            }
        }
        manifestEdit.accept(m);
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A small but complete install tree: a unit, a preset, a conffile, binaries, a library link. */
    public static TarBuilder typicalTree() {
        return flatcar()
                .dir("etc/modules-load.d")
                .file("etc/modules-load.d/zfs.conf", "zfs\n")
                .dir("etc/systemd")
                .dir("etc/systemd/system")
                .file(
                        "etc/systemd/system/zfs-overlay.service",
                        "[Unit]\nDescription=overlay\n[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n")
                .file(
                        "etc/systemd/system/zfs-ignored.service",
                        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n")
                .dir("etc/systemd/system-preset")
                .file(
                        "etc/systemd/system-preset/40-corezfs.preset",
                        "enable zfs-overlay.service\ndisable zfs-ignored.service\n")
                .dir("etc/zfs")
                .file("etc/zfs/zed.rc", "ZED_DEBUG_LOG=/tmp/zed.debug.log\n")
                .dir("opt/corezfs")
                .dir("opt/corezfs/usr")
                .dir("opt/corezfs/usr/sbin")
                .file("opt/corezfs/usr/sbin/zfs", "#!/bin/sh\necho zfs\n", 0755)
                .dir("opt/corezfs/usr/lib")
                .file("opt/corezfs/usr/lib/libzfs.so.4.1.0", "ELF?\n", 0755)
                .symlink("opt/corezfs/usr/lib/libzfs.so.4", "libzfs.so.4.1.0");
    }
}
