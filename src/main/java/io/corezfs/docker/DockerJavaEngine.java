package io.corezfs.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Request;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** {@link Docker} over docker-java and its httpclient5 transport, talking to the local engine's socket. */
public final class DockerJavaEngine implements Docker, AutoCloseable {
    private final DockerClient client;
    private final DockerHttpClient http;
    private final String host;
    /** The engine's unix socket, when DOCKER_HOST names one: the import goes straight to it. */
    private final Optional<Path> socket;

    public DockerJavaEngine(String dockerHost) {
        this.host = dockerHost;
        this.socket = SocketImport.unixSocket(dockerHost);
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(dockerHost)
                .build();
        this.http = new ApacheDockerHttpClient.Builder()
                .dockerHost(URI.create(dockerHost))
                .connectionTimeout(Duration.ofSeconds(5))
                .responseTimeout(Duration.ofHours(3))
                .build();
        this.client = DockerClientImpl.getInstance(config, http);
    }

    /** The engine named by DOCKER_HOST, else the default socket. */
    public static DockerJavaEngine fromEnvironment(Optional<String> dockerHost) {
        return new DockerJavaEngine(dockerHost.orElse("unix:///var/run/docker.sock"));
    }

    @Override
    public void ping() {
        try {
            client.pingCmd().exec();
        } catch (RuntimeException e) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    "Docker is not running or not reachable at " + host + " (" + rootMessage(e)
                            + "). Start it, e.g. 'systemctl start docker', or point DOCKER_HOST at it");
        }
    }

    @Override
    public Optional<Image> image(String ref) {
        try {
            InspectImageResponse r = client.inspectImageCmd(ref).exec();
            Map<String, String> labels = r.getConfig() == null || r.getConfig().getLabels() == null
                    ? Map.of()
                    : r.getConfig().getLabels();
            return Optional.of(new Image(r.getId(), labels));
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    @Override
    public String importImage(InputStream rootfsTar, String repository, String tag, Map<String, String> labels) {
        // Not createImageCmd: docker-java 3.4.2 serializes its InputStream as JSON instead of sending the bytes
        // (docker-java#2377), and it cannot pass labels. The engine's import endpoint does both in one request:
        // the tar is the chunked request body, streamed as it is read, and each label is a LABEL change. No
        // temporary repository, container or commit is needed. On a unix socket the request is written directly,
        // in 256 KiB chunks (SocketImport); docker-java's 8 KiB chunks cost about a fifth of the import's time.
        String ref = repository + ":" + tag;
        String path = ImportRequest.path(repository, tag, labels);
        try {
            if (socket.isPresent()) {
                return SocketImport.post(socket.get(), path, rootfsTar, ref);
            }
            Request request = Request.builder()
                    .method(Request.Method.POST)
                    .path(path)
                    .putHeader("Content-Type", "application/x-tar")
                    .body(rootfsTar)
                    .build();
            try (Response r = http.execute(request)) {
                return ImportRequest.imageId(r.getStatusCode(), r.getBody(), ref);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof CorezfsException c) {
                throw c;
            }
            throw new CorezfsException(
                    ExitCode.BUILD_FAILED, "docker import of " + ref + " failed: " + rootMessage(e), e);
        }
    }

    @Override
    public String create(ContainerSpec spec) {
        HostConfig hc = HostConfig.newHostConfig().withNetworkMode(spec.network());
        List<String> env = new ArrayList<>();
        spec.env().forEach((k, v) -> env.add(k + "=" + v));
        CreateContainerResponse r = client.createContainerCmd(spec.image())
                .withCmd(spec.command())
                .withLabels(spec.labels())
                .withEnv(env)
                .withWorkingDir(spec.workingDir())
                .withHostConfig(hc)
                .exec();
        return r.getId();
    }

    @Override
    public void copyInto(String container, String dir, InputStream tar) {
        client.copyArchiveToContainerCmd(container)
                .withRemotePath(dir)
                .withTarInputStream(tar)
                .exec();
    }

    @Override
    public InputStream copyOut(String container, String path) {
        return client.copyArchiveFromContainerCmd(container, path).exec();
    }

    @Override
    public void start(String container) {
        client.startContainerCmd(container).exec();
    }

    @Override
    public int follow(String container, Consumer<String> line) {
        StringBuilder partial = new StringBuilder();
        try (ResultCallback.Adapter<Frame> cb = client.logContainerCmd(container)
                .withStdOut(true)
                .withStdErr(true)
                .withFollowStream(true)
                .exec(new ResultCallback.Adapter<>() {
                    @Override
                    public void onNext(Frame f) {
                        partial.append(new String(f.getPayload(), StandardCharsets.UTF_8));
                        int nl;
                        while ((nl = partial.indexOf("\n")) >= 0) {
                            line.accept(partial.substring(0, nl));
                            partial.delete(0, nl + 1);
                        }
                    }
                })) {
            cb.awaitCompletion();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CorezfsException(ExitCode.BUILD_FAILED, "interrupted while following the build");
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.BUILD_FAILED, "lost the build's output: " + e.getMessage());
        }
        if (partial.length() > 0) {
            line.accept(partial.toString());
        }
        Integer code = client.waitContainerCmd(container).start().awaitStatusCode();
        return code == null ? -1 : code;
    }

    @Override
    public void remove(String container) {
        try {
            client.removeContainerCmd(container)
                    .withForce(true)
                    .withRemoveVolumes(true)
                    .exec();
        } catch (NotFoundException e) {
            // already gone
        } catch (com.github.dockerjava.api.exception.ConflictException e) {
            // 409 "removal already in progress": the shutdown hook and the finally block raced; it is going.
        }
    }

    @Override
    public Map<String, Map<String, String>> containersLabelled(String label) {
        Map<String, Map<String, String>> out = new java.util.LinkedHashMap<>();
        for (Container c : client.listContainersCmd()
                .withShowAll(true)
                .withLabelFilter(List.of(label))
                .exec()) {
            out.put(c.getId(), c.getLabels() == null ? Map.of() : Map.copyOf(c.getLabels()));
        }
        return out;
    }

    @Override
    public void removeImage(String ref) {
        try {
            client.removeImageCmd(ref).withForce(true).exec();
        } catch (NotFoundException e) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }
}
