package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.jcraft.jsch.Cipher;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.KEM;
import org.junit.jupiter.api.Test;

/**
 * What JSch offers without trying it out first ({@link JschSsh#CHECKED_KEXES}) must work wherever corezfs runs, and
 * what cannot work is not offered ({@link JschSsh#KEXES}).
 */
class JschSshAlgorithmsTest {
    @Test
    void mlKemDoesNotWorkWithThisBouncyCastleSoItIsNotOffered() {
        // Once this fails, ML-KEM works here: drop the filter from JschSsh.KEXES and offer it again.
        assertThrows(Throwable.class, () -> {
            KEM kem = (KEM) Class.forName(JSch.getConfig("mlkem768"))
                    .getDeclaredConstructor()
                    .newInstance();
            kem.init();
        });
        assertFalse(JschSsh.KEXES.contains("mlkem"), JschSsh.KEXES);
        assertTrue(JschSsh.KEXES.startsWith("curve25519-sha256,"), JschSsh.KEXES);
    }

    @Test
    void chaCha20OfferedUncheckedWorks() throws Exception {
        Cipher c = (Cipher) Class.forName(JSch.getConfig("chacha20-poly1305@openssh.com"))
                .getDeclaredConstructor()
                .newInstance();
        c.init(Cipher.ENCRYPT_MODE, new byte[64], new byte[Math.max(c.getIVSize(), 8)]);
        assertTrue(c.isChaCha20());
    }

    @Test
    void theKeyExchangesStillCheckedAreTheJdksOwnAndAreOffered() {
        for (String kex : JschSsh.CHECKED_KEXES.split(",")) {
            assertNotNull(JSch.getConfig(kex), kex);
            assertTrue(JSch.getConfig("CheckKexes").contains(kex), kex);
            assertFalse(JSch.getConfig(kex).startsWith("com.jcraft.jsch.bc."), kex);
        }
        for (String kex : JschSsh.KEXES.split(",")) {
            assertFalse(JSch.getConfig(kex).startsWith("com.jcraft.jsch.bc."), kex);
        }
    }
}
