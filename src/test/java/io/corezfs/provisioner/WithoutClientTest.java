package io.corezfs.provisioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The node bundle carries no Kubernetes client: there, the provisioner's command must still load and link (so
 * picocli can build it for help and errors) and find out, rather than fail with a missing class, that the client is
 * not there. Played with a class loader that has the tool's classes and the node's jars, and no fabric8.
 */
class WithoutClientTest {
    static URL where(Class<?> c) {
        return c.getProtectionDomain().getCodeSource().getLocation();
    }

    @Test
    void theCommandLinksAndSaysTheClientIsMissing() throws Exception {
        List<URL> urls = List.of(
                where(Service.class),
                where(picocli.CommandLine.class),
                where(org.slf4j.LoggerFactory.class),
                where(com.fasterxml.jackson.databind.ObjectMapper.class),
                where(com.fasterxml.jackson.core.JsonFactory.class),
                where(com.fasterxml.jackson.annotation.JsonProperty.class),
                where(com.fasterxml.jackson.dataformat.yaml.YAMLFactory.class),
                where(org.yaml.snakeyaml.Yaml.class));
        try (URLClassLoader node = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            assertThrows(
                    ClassNotFoundException.class,
                    () -> Class.forName("io.fabric8.kubernetes.client.KubernetesClient", false, node));
            Class<?> service = Class.forName(Service.class.getName(), true, node);
            assertEquals(service.getClassLoader(), node);
            assertFalse((Boolean) service.getMethod("clientAvailable").invoke(null));
            // Initialising links and verifies every method of the command, the one that calls Service.run included.
            Class.forName("io.corezfs.cli.ProvisionerRunCommand", true, node);
            Class.forName("io.corezfs.cli.ProvisionerManifestsCommand", true, node);
            Class.forName(Manifests.class.getName(), true, node);
        }
    }
}
