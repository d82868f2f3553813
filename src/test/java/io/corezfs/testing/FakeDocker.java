package io.corezfs.testing;

import io.corezfs.docker.Docker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** An in-memory Docker engine that records what a build asked of it. */
public class FakeDocker implements Docker {
    public final Map<String, Map<String, String>> containers = new LinkedHashMap<>();
    public final List<String> calls = new ArrayList<>();
    public final Map<String, Image> images = new LinkedHashMap<>();
    public ContainerSpec lastSpec;
    public byte[] copiedIn;
    public int exitCode;
    public List<String> output =
            List.of("corezfs-build: configuring", "checking for gcc... gcc", "corezfs-build: done");
    public byte[] outTar = outputTar(Map.of("out/destdir/usr/sbin/zfs", "zfs", "out/build.env", "LIBDIR=/usr/lib\n"));
    public boolean running = true;

    @Override
    public void ping() {
        calls.add("ping");
        if (!running) {
            throw new io.corezfs.CorezfsException(io.corezfs.ExitCode.PRECONDITION, "Docker is not running");
        }
    }

    @Override
    public Optional<Image> image(String ref) {
        return Optional.ofNullable(images.get(ref));
    }

    @Override
    public String importImage(InputStream rootfsTar, String repository, String tag, Map<String, String> labels) {
        String id = "sha256:" + images.size();
        images.put(repository + ":" + tag, new Image(id, labels));
        return id;
    }

    @Override
    public String create(ContainerSpec spec) {
        lastSpec = spec;
        String id = "c" + containers.size() + "-" + System.nanoTime();
        containers.put(id, spec.labels());
        calls.add("create");
        return id;
    }

    @Override
    public void copyInto(String container, String dir, InputStream tar) {
        try (tar) {
            copiedIn = tar.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        calls.add("copyInto " + dir);
    }

    @Override
    public InputStream copyOut(String container, String path) {
        calls.add("copyOut " + path);
        return new ByteArrayInputStream(outTar);
    }

    @Override
    public void start(String container) {
        calls.add("start");
    }

    @Override
    public int follow(String container, Consumer<String> line) {
        output.forEach(line);
        return exitCode;
    }

    @Override
    public void remove(String container) {
        calls.add("remove " + container);
        containers.remove(container);
    }

    @Override
    public Map<String, Map<String, String>> containersLabelled(String label) {
        Map<String, Map<String, String>> out = new java.util.LinkedHashMap<>();
        containers.forEach((id, labels) -> {
            if (labels.containsKey(label)) {
                out.put(id, labels);
            }
        });
        return out;
    }

    @Override
    public void removeImage(String ref) {
        images.remove(ref);
    }

    public static byte[] outputTar(Map<String, String> files) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bos)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : new java.util.TreeMap<>(files).entrySet()) {
                byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry te = new TarArchiveEntry(e.getKey());
                te.setSize(b.length);
                te.setMode(0755);
                t.putArchiveEntry(te);
                t.write(b);
                t.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }
}
