package io.corezfs.build;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ElfNeededTest {
    private static final Path LS = Path.of("/bin/ls");
    private static final Path LIBZ = Path.of("/lib/x86_64-linux-gnu/libz.so.1");
    private static final Path LDCONFIG = Path.of("/sbin/ldconfig");

    @TempDir
    Path dir;

    @Test
    void anExecutableNeedsLibcAndHasNoSoname() throws IOException {
        io.corezfs.testing.Requirements.need(Files.isRegularFile(LS) && isElf64(LS), "no ELF64 /bin/ls here");

        ElfNeeded e = ElfNeeded.read(LS).orElseThrow();

        assertTrue(e.needed().contains("libc.so.6"), e.needed().toString());
        assertEquals(Optional.empty(), e.soname());
    }

    @Test
    void aSharedLibraryNamesItselfBySoname() throws IOException {
        io.corezfs.testing.Requirements.need(Files.isRegularFile(LIBZ) && isElf64(LIBZ), "no x86_64 libz here");

        ElfNeeded e = ElfNeeded.read(LIBZ).orElseThrow();

        assertEquals(Optional.of("libz.so.1"), e.soname());
        assertEquals(List.of("libc.so.6"), e.needed());
    }

    @Test
    void aStaticPieHasADynamicSectionButNeedsNothing() throws IOException {
        io.corezfs.testing.Requirements.need(Files.isRegularFile(LDCONFIG) && isElf64(LDCONFIG), "no ELF64 ldconfig here");

        assertEquals(Optional.of(new ElfNeeded(List.of(), Optional.empty())), ElfNeeded.read(LDCONFIG));
    }

    @Test
    void agreesWithReadelfOnTheSystemsLibraries() throws Exception {
        Optional<Path> readelf = GptReaderTest.which("readelf");
        io.corezfs.testing.Requirements.need(readelf.isPresent(), "binutils not installed");
        List<Path> files = new ArrayList<>(List.of(LS));
        try (DirectoryStream<Path> libs = Files.newDirectoryStream(Path.of("/lib/x86_64-linux-gnu"), "*.so.*")) {
            for (Path p : libs) {
                if (files.size() < 25 && Files.isRegularFile(p) && !Files.isSymbolicLink(p) && isElf64(p)) {
                    files.add(p);
                }
            }
        }
        io.corezfs.testing.Requirements.need(files.size() > 5, "too few libraries to compare");
        Pattern needed = Pattern.compile("\\(NEEDED\\)\\s+Shared library: \\[(.*)]");
        Pattern soname = Pattern.compile("\\(SONAME\\)\\s+Library soname: \\[(.*)]");
        for (Path f : files) {
            Process p = new ProcessBuilder(readelf.get().toString(), "-d", "-W", f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            List<String> expectedNeeded = new ArrayList<>();
            Optional<String> expectedSoname = Optional.empty();
            for (String line : out.split("\n")) {
                Matcher n = needed.matcher(line);
                Matcher s = soname.matcher(line);
                if (n.find()) {
                    expectedNeeded.add(n.group(1));
                } else if (s.find()) {
                    expectedSoname = Optional.of(s.group(1));
                }
            }

            assertEquals(Optional.of(new ElfNeeded(expectedNeeded, expectedSoname)), ElfNeeded.read(f), f.toString());
        }
    }

    @Test
    void aHandMadeElfWithLoadOffsetIsMappedFromVirtualAddressesToFileOffsets() throws IOException {
        Path f = Files.write(dir.resolve("libself.so.3"), TinyElf.dynamic(List.of("liba.so.1", "libb.so.2"), "libself.so.3"));

        assertEquals(Optional.of(new ElfNeeded(List.of("liba.so.1", "libb.so.2"), Optional.of("libself.so.3"))),
                ElfNeeded.read(f));
    }

    @Test
    void withoutProgramHeadersTheSectionTableIsUsed() throws IOException {
        io.corezfs.testing.Requirements.need(Files.isRegularFile(LIBZ) && isElf64(LIBZ), "no x86_64 libz here");
        byte[] lib = Files.readAllBytes(LIBZ);
        ByteBuffer.wrap(lib).order(ByteOrder.LITTLE_ENDIAN).putLong(32, 0).putShort(56, (short) 0);
        Path f = Files.write(dir.resolve("libz-no-phdrs.so"), lib);

        assertEquals(ElfNeeded.read(LIBZ), ElfNeeded.read(f));
    }

    @Test
    void filesThatAreNotElfGiveNothing() throws IOException {
        Path script = Files.writeString(dir.resolve("arc_summary"), "#!/usr/bin/env python3\nprint('hi')\n");
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        Path tiny = Files.write(dir.resolve("tiny"), new byte[]{0x7f, 'E'});

        assertEquals(Optional.empty(), ElfNeeded.read(script));
        assertEquals(Optional.empty(), ElfNeeded.read(empty));
        assertEquals(Optional.empty(), ElfNeeded.read(tiny));
    }

    @Test
    void aStaticElfWithoutADynamicSectionNeedsNothing() throws IOException {
        Path f = Files.write(dir.resolve("static"), TinyElf.header(2, 1, 0, 0, 0, 0));

        assertEquals(Optional.of(new ElfNeeded(List.of(), Optional.empty())), ElfNeeded.read(f));
    }

    @Test
    void thirtyTwoBitAndBigEndianElfAreRefusedClearly() throws IOException {
        Path elf32 = Files.write(dir.resolve("elf32"), TinyElf.header(1, 1, 0, 0, 0, 0));
        Path be = Files.write(dir.resolve("be"), TinyElf.header(2, 2, 0, 0, 0, 0));

        CorezfsException e32 = assertThrows(CorezfsException.class, () -> ElfNeeded.read(elf32));
        CorezfsException ebe = assertThrows(CorezfsException.class, () -> ElfNeeded.read(be));

        assertEquals(ExitCode.BUILD_FAILED, e32.exitCode());
        assertTrue(e32.getMessage().contains("32-bit"), e32.getMessage());
        assertTrue(ebe.getMessage().contains("big-endian"), ebe.getMessage());
    }

    @Test
    void aTruncatedElfIsABuildFailureNotAnEmptyAnswer() throws IOException {
        io.corezfs.testing.Requirements.need(Files.isRegularFile(LS) && isElf64(LS), "no ELF64 /bin/ls here");
        Path f = Files.write(dir.resolve("ls-cut"), Arrays.copyOf(Files.readAllBytes(LS), 4096));

        CorezfsException e = assertThrows(CorezfsException.class, () -> ElfNeeded.read(f));

        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void absurdHeaderCountsAreRefusedWithoutHugeReads() throws IOException {
        Path f = Files.write(dir.resolve("hostile"), TinyElf.header(2, 1, 64, 0xffff, 0xffff, 0));

        assertEquals(ExitCode.BUILD_FAILED, assertThrows(CorezfsException.class, () -> ElfNeeded.read(f)).exitCode());
    }

    private static boolean isElf64(Path p) throws IOException {
        byte[] h = new byte[6];
        try (var in = Files.newInputStream(p)) {
            return in.readNBytes(h, 0, 6) == 6 && h[0] == 0x7f && h[1] == 'E' && h[4] == 2 && h[5] == 1;
        }
    }

    /** Builds minimal ELF64 files from the spec, independently of the reader. */
    static final class TinyElf {
        static final long BASE = 0x400000;

        static byte[] header(int elfClass, int data, long phoff, int phentsize, int phnum, long shoff) {
            ByteBuffer h = ByteBuffer.allocate(64).order(data == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            h.put(new byte[]{0x7f, 'E', 'L', 'F', (byte) elfClass, (byte) data, 1});
            h.putShort(16, (short) 3).putShort(18, (short) 62).putInt(20, 1);
            h.putLong(32, phoff).putLong(40, shoff).putShort(52, (short) 64);
            h.putShort(54, (short) phentsize).putShort(56, (short) phnum).putShort(58, (short) 64);
            return h.array();
        }

        /** Header, PT_LOAD (whole file at BASE), PT_DYNAMIC, .dynstr, .dynamic. */
        static byte[] dynamic(List<String> needed, String soname) {
            ByteArrayOutputStream strs = new ByteArrayOutputStream();
            strs.write(0);
            List<Long> neededIdx = new ArrayList<>();
            for (String n : needed) {
                neededIdx.add((long) strs.size());
                strs.writeBytes((n + "\0").getBytes(StandardCharsets.UTF_8));
            }
            long sonameIdx = strs.size();
            strs.writeBytes((soname + "\0").getBytes(StandardCharsets.UTF_8));
            byte[] strtab = strs.toByteArray();

            int phoff = 64;
            int strOff = phoff + 2 * 56;
            int dynOff = (strOff + strtab.length + 7) & ~7;
            int dynEntries = needed.size() + 4; // NEEDED…, SONAME, STRTAB, STRSZ, NULL
            int total = dynOff + dynEntries * 16;

            ByteBuffer f = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
            f.put(0, header(2, 1, phoff, 56, 2, 0));
            f.putInt(phoff, 1).putLong(phoff + 8, 0).putLong(phoff + 16, BASE).putLong(phoff + 32, total).putLong(phoff + 40, total);
            int d = phoff + 56;
            f.putInt(d, 2).putLong(d + 8, dynOff).putLong(d + 16, BASE + dynOff).putLong(d + 32, dynEntries * 16L);
            f.put(strOff, strtab);
            int e = dynOff;
            for (long idx : neededIdx) {
                f.putLong(e, 1).putLong(e + 8, idx);
                e += 16;
            }
            f.putLong(e, 14).putLong(e + 8, sonameIdx);
            f.putLong(e + 16, 5).putLong(e + 24, BASE + strOff);
            f.putLong(e + 32, 10).putLong(e + 40, strtab.length);
            return f.array();
        }
    }
}
